using System.CommandLine;
using System.Text.Json;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Distributed;

namespace CodeLm.Cli;

/// <summary>
/// `codelm data build --world-size N --work DIR [--executor local|slurm|kubernetes]` and `codelm data stage`: the corpus
/// build as stages with ranks (DataPipeline/Distributed). The build command writes its own arguments to the work
/// directory, so every rank of every stage, on any node, builds with exactly the same options.
/// </summary>
internal sealed class StagedBuildCommands
{
    public readonly Option<int> WorldSize = new("--world-size") { Description = "Run the build as stages of this many ranks each (crawl, clean, buckets; cluster and write run once), handing files over through --work. 0: one process, no work directory.", DefaultValueFactory = _ => 0 };
    public readonly Option<string?> Work = new("--work") { Description = "Work directory of a staged build, on storage every rank sees; a rerun skips finished ranks." };
    public readonly Option<ExecutorKind> Executor = new("--executor") { Description = "Who runs the ranks: local (child processes here), slurm (sbatch job arrays chained with afterok), kubernetes (Indexed Job manifests).", DefaultValueFactory = _ => ExecutorKind.Local };
    public readonly Option<bool> DryRun = new("--dry-run") { Description = "slurm, kubernetes: write and print the scripts or manifests, submit nothing." };
    public readonly Option<bool> Wait = new("--wait") { Description = "slurm: after submitting, wait for the jobs and print the summary." };
    public readonly Option<string?> Partition = new("--partition") { Description = "slurm: the partition to submit to." };
    public readonly Option<string?> Image = new("--image") { Description = "kubernetes: the container image with codelm on PATH." };
    public readonly Option<string?> Claim = new("--volume-claim") { Description = "kubernetes: the PersistentVolumeClaim holding --work, --out and --cache, mounted at --mount." };
    public readonly Option<string> Mount = new("--mount") { Description = "kubernetes: where the volume claim is mounted in each pod.", DefaultValueFactory = _ => "/data" };

    public const string CommandFile = "command.json";

    public void AddTo(Command build)
    {
        foreach (var o in new Option[] { WorldSize, Work, Executor, DryRun, Wait, Partition, Image, Claim, Mount }) build.Add(o);
    }

    public bool IsStaged(ParseResult p) => p.GetValue(WorldSize) > 0 || p.GetValue(Work) != null;

    /// <summary>Plans the stages, records the build's arguments in the work directory, and hands the plan to the executor.</summary>
    public async Task<int> RunAsync(ParseResult p, CorpusBuildOptions o, Func<CorpusBuildOptions, CorpusStats, int> summarize, CancellationToken ct)
    {
        int world = p.GetValue(WorldSize);
        if (world < 1) throw new UserFacingException("--work needs --world-size N (the ranks per stage) as well");
        var work = Path.GetFullPath(p.GetValue(Work) ?? throw new UserFacingException("--world-size needs --work DIR, a directory every rank can read and write"));
        Directory.CreateDirectory(work);
        var record = new StagedCommand(Environment.CurrentDirectory, CorpusArguments(p));
        var path = Path.Combine(work, CommandFile);
        if (File.Exists(path) && JsonSerializer.Deserialize(File.ReadAllText(path), CliJson.Default.StagedCommand) is { } old && !old.Args.SequenceEqual(record.Args))
            throw new UserFacingException($"{work} holds a build with other arguments ({string.Join(' ', old.Args)}); use another --work, or delete it to start over");
        Common.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(record, CliJson.Default.StagedCommand));
        var plan = new StagePlan(world, work, o.Dedup.Bands, SelfCommand(), Environment.CurrentDirectory, Math.Max(1, o.Parallelism / world));

        switch (p.GetValue(Executor))
        {
            case ExecutorKind.Local:
                await LocalExecutor.RunAsync(plan, line => Console.Error.WriteLine($"codelm data build: {line}"), ct);
                return summarize(o, CorpusStats.Load(o.OutDir));
            case ExecutorKind.Slurm:
                var jobs = SlurmExecutor.Submit(plan, p.GetValue(DryRun), p.GetValue(Partition));
                foreach (var j in jobs)
                {
                    if (p.GetValue(DryRun)) Console.WriteLine($"# {j.Script}\n{File.ReadAllText(j.Script)}");
                    else Console.WriteLine($"{j.Stage.Name()}: job {j.JobId} ({j.Script})");
                }
                if (p.GetValue(DryRun) || !p.GetValue(Wait)) return ExitCodes.Ok;
                await SlurmExecutor.WaitAsync(jobs, TimeSpan.FromSeconds(2), ct);
                return Finished(plan, o, summarize);
            default:
#if CODELM_DATA_ONLY
                throw new UserFacingException("--executor kubernetes is not in codelm-data; run it with CODELM_NATIVE_DATA=0");
#else
                return await KubernetesAsync(p, plan with { Codelm = ["codelm"] }, ct);
#endif
        }
    }

    /// <summary>
    /// The build's arguments without the ones that only say how to run it (executor, waiting, scheduler settings), so
    /// resubmitting the same build another way finds its finished ranks.
    /// </summary>
    private string[] CorpusArguments(ParseResult p)
    {
        var howToRun = new HashSet<string> { Executor.Name, DryRun.Name, Wait.Name, Partition.Name, Image.Name, Claim.Name, Mount.Name };
        var args = new List<string>();
        bool skipping = false;
        foreach (var t in p.Tokens)
        {
            if (t.Type == System.CommandLine.Parsing.TokenType.Command) continue;
            if (t.Type == System.CommandLine.Parsing.TokenType.Option) skipping = howToRun.Contains(t.Value);
            else if (t.Type != System.CommandLine.Parsing.TokenType.Argument) skipping = false;
            if (!skipping) args.Add(t.Value);
        }
        return [.. args];
    }

#if !CODELM_DATA_ONLY
    /// <summary>Writes the Indexed Job manifests; without --dry-run, also runs them on the cluster of the current kubeconfig.</summary>
    private async Task<int> KubernetesAsync(ParseResult p, StagePlan plan, CancellationToken ct)
    {
        var image = p.GetValue(Image) ?? throw new UserFacingException("--executor kubernetes needs --image, a container image with codelm on PATH");
        var settings = new KubernetesExecutor.Settings(image, p.GetValue(Claim), p.GetValue(Mount)!);
        foreach (var path in KubernetesExecutor.Write(plan, settings))
        {
            if (p.GetValue(DryRun)) Console.WriteLine($"# {path}\n{File.ReadAllText(path)}");
            else Console.WriteLine($"manifest: {path}");
        }
        if (p.GetValue(DryRun)) return ExitCodes.Ok;
        await KubernetesExecutor.SubmitAsync(plan, settings, line => Console.Error.WriteLine($"codelm data build: {line}"), ct);
        return ExitCodes.Ok;
    }
#endif

    /// <summary>After a scheduler ran the stages: the summary, or the first stage whose ranks did not all finish.</summary>
    private static int Finished(StagePlan plan, CorpusBuildOptions o, Func<CorpusBuildOptions, CorpusStats, int> summarize)
    {
        var work = new WorkDirectory(plan.WorkDir);
        foreach (var stage in plan.Stages)
            for (int r = 0; r < plan.Ranks(stage); r++)
                if (!work.IsDone(stage, r))
                    throw new UserFacingException($"the {stage.Name()} stage did not finish on rank {r} (log: {work.Log(stage, r)}); rerun the same command to redo the unfinished ranks");
        return summarize(o, CorpusStats.Load(o.OutDir));
    }

    /// <summary>How to start this very codelm again: its executable, or dotnet and its dll.</summary>
    private static IReadOnlyList<string> SelfCommand()
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable is running");
        return Path.GetFileNameWithoutExtension(exe) == "dotnet"
            ? [exe, Path.Combine(AppContext.BaseDirectory, System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name + ".dll")]
            : [exe];
    }

    /// <summary>`codelm data stage STAGE`: one rank, with the options the build recorded in --work.</summary>
    public static Command StageCommand(Func<string[], CorpusBuildOptions> parseBuild)
    {
        var stage = new Argument<string>("stage") { Description = "crawl, clean, buckets, cluster or write." };
        var rank = new Option<int?>("--rank") { Description = "This task's rank; default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX." };
        var world = new Option<int>("--world-size") { Description = "Ranks per stage, as the build was planned.", Required = true };
        var work = new Option<string>("--work") { Description = "The build's work directory.", Required = true };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Worker threads of this rank.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("stage", "Run one rank of one stage of a staged `data build` (what the executors start; see docs/data.md, \"Running on a cluster\").")
        {
            stage, rank, world, work, jobs,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var s = DataStages.Parse(p.GetValue(stage)!);
            var r = p.GetValue(rank) ?? SchedulerRank.FromEnvironment()
                ?? throw new UserFacingException("no rank: pass --rank R, or run it as a Slurm array task or a Kubernetes Indexed Job");
            var dir = p.GetValue(work)!;
            var recorded = Path.Combine(dir, CommandFile);
            if (!File.Exists(recorded)) throw new UserFacingException($"{recorded} is missing: start the build with `codelm data build ... --world-size N --work {dir}`");
            var command = JsonSerializer.Deserialize(File.ReadAllText(recorded), CliJson.Default.StagedCommand)!;
            // In a pod the submitting machine's directory may not exist; the arguments are then absolute paths on the volume.
            if (Directory.Exists(command.WorkingDirectory)) Environment.CurrentDirectory = command.WorkingDirectory;
            var o = parseBuild(command.Args) with { Parallelism = Math.Max(1, p.GetValue(jobs)) };
            bool ran = await StagedCorpusBuild.RunAsync(o, s, r, p.GetValue(world), dir, null, ct);
            Console.Error.WriteLine($"codelm data stage {s.Name()}: rank {r} {(ran ? "done" : "was already done")}");
            return ExitCodes.Ok;
        });
        return cmd;
    }

}

/// <summary>command.json in a staged build's work directory: the arguments of `codelm data build` and where they were given.</summary>
internal sealed record StagedCommand(string WorkingDirectory, string[] Args);

[System.Text.Json.Serialization.JsonSerializable(typeof(StagedCommand))]
internal sealed partial class CliJson : System.Text.Json.Serialization.JsonSerializerContext;
