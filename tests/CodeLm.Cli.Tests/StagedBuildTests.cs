using System.Diagnostics;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>
/// `codelm data build --world-size N --work DIR`: the corpus as stages of ranks, run by child processes here and by a
/// real single-node Slurm (scripts/start-slurm.sh), must equal the one-process build byte for byte, survive a killed
/// rank, and stop when a rank fails.
/// </summary>
public sealed class StagedBuildTests
{
    private static readonly string[] Outputs = ["train.parquet", "validation.parquet", "stats.json", "manifest.json"];
    private static readonly Dictionary<string, string> Jit = new() { ["CODELM_NATIVE_DATA"] = "0" };

    private static string[] Sources(params string[] names) => [.. names.Select(TestPaths.SharedCorpus)];

    private static Proc.Result Build(TempDir tmp, string[] sources, string outDir, params string[] extra) =>
        CodeLmCli.Run(["data", "build", .. sources, "--cache", tmp.File("cache"), "--out", tmp.File(outDir),
                       "--decontaminate", TestPaths.HumanEval, .. extra], cwd: null, env: Jit);

    private static void AssertSameCorpus(TempDir tmp, string expected, string actual)
    {
        foreach (var f in Outputs)
            Assert.True(File.ReadAllBytes(tmp.File($"{expected}/{f}")).SequenceEqual(File.ReadAllBytes(tmp.File($"{actual}/{f}"))), $"{actual}/{f} differs from {expected}/{f}");
    }

    private static void AssertNoLeftovers(params string[] dirs)
    {
        foreach (var dir in dirs)
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories),
                p => Path.GetFileName(p).StartsWith('.') && (p.Contains(".tmp") || p.Contains("spill")));
    }

    [Fact]
    public void World_sizes_1_3_and_4_give_the_one_process_corpus_byte_for_byte()
    {
        using var tmp = new TempDir();
        var sources = Sources("MediatR", "cobra", "express", "requests");
        Assert.True(Build(tmp, sources, "one").ExitCode == 0);
        foreach (var world in new[] { 1, 3, 4 })
        {
            var r = Build(tmp, sources, $"w{world}", "--world-size", world.ToString(), "--work", tmp.File($"work{world}"));
            Assert.True(r.ExitCode == 0, r.Stderr);
            AssertSameCorpus(tmp, "one", $"w{world}");
            Assert.True(File.Exists(tmp.File($"work{world}/done/clean-{world - 1}")));
            Assert.Contains($"clean: 0 of {world} ranks already done, running {world}", r.Stderr);
        }
        // A rerun finds every rank done and runs none.
        var again = Build(tmp, sources, "w3", "--world-size", "3", "--work", tmp.File("work3"));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("clean: 3 of 3 ranks already done, running 0", again.Stderr);
    }

    [Fact]
    public async Task A_rank_killed_mid_stage_is_redone_by_a_rerun_with_no_leftovers()
    {
        using var tmp = new TempDir();
        // Name order puts TorchSharp, the slow one, alone in clean rank 1.
        var sources = Sources("MediatR", "TorchSharp", "cobra");
        Assert.True(Build(tmp, sources, "one").ExitCode == 0);
        string[] args = ["--world-size", "3", "--work", tmp.File("work")];
        var build = Task.Run(() => Build(tmp, sources, "staged", args));
        var victim = await KillWhenStaging(tmp.File("work/clean"), ".rank-1.tmp-", "clean", 1);
        var killed = await build;
        Assert.NotEqual(0, killed.ExitCode);
        Assert.True(killed.Stderr.Contains("the clean stage failed on rank 1: exit code 137"), killed.Stderr);
        Assert.False(File.Exists(tmp.File("work/done/clean-1")));
        Assert.False(File.Exists(tmp.File("staged/train.parquet")));

        var rerun = Build(tmp, sources, "staged", args);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Contains("clean: 2 of 3 ranks already done, running 1", rerun.Stderr);
        AssertSameCorpus(tmp, "one", "staged");
        AssertNoLeftovers(tmp.File("work"), tmp.File("staged"));
        Assert.True(victim > 0);
    }

    /// <summary>Kills (SIGKILL) the process of <paramref name="stage"/>'s rank <paramref name="rank"/> once its staging directory exists.</summary>
    private static async Task<int> KillWhenStaging(string dir, string staging, string stage, int rank)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (Directory.Exists(dir) && Directory.EnumerateDirectories(dir, staging + "*").Any())
                foreach (var pid in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)))
                {
                    string cmdline;
                    try { cmdline = File.ReadAllText($"/proc/{pid}/cmdline"); } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
                    var argv = cmdline.Split('\0');
                    int at = Array.IndexOf(argv, "--rank");
                    if (argv.Contains("stage") && argv.Contains(stage) && at >= 0 && at + 1 < argv.Length && argv[at + 1] == rank.ToString()
                        && argv.Contains(Path.GetDirectoryName(dir)!))
                    {
                        Process.GetProcessById(int.Parse(pid!)).Kill();
                        return int.Parse(pid!);
                    }
                }
            await Task.Delay(5);
        }
        throw new TimeoutException($"no {stage} rank {rank} staged into {dir}");
    }

    [Fact]
    public void Slurm_runs_the_stages_as_chained_job_arrays_and_gives_the_same_corpus()
    {
        using var tmp = new TempDir();
        var sources = Sources("MediatR", "cobra", "express", "requests");
        Assert.True(Build(tmp, sources, "one").ExitCode == 0);

        var dry = Build(tmp, sources, "dry", "--world-size", "4", "--work", tmp.File("dry-work"), "--executor", "slurm", "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.Contains("#SBATCH --array=0-3", dry.Stdout);
        Assert.Contains("#SBATCH --array=0-0", dry.Stdout); // cluster and write run once
        Assert.Contains("data stage clean --world-size 4 --work " + tmp.File("dry-work"), dry.Stdout);
        Assert.False(File.Exists(tmp.File("dry-work/done/crawl-0")));

        var r = Build(tmp, sources, "slurm", "--world-size", "4", "--work", tmp.File("work"), "--executor", "slurm", "--wait");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Matches(@"(?m)^crawl: job \d+ ", r.Stdout);
        AssertSameCorpus(tmp, "one", "slurm");
        Assert.True(File.Exists(tmp.File("work/logs/clean-3.log")));
    }

    [Fact]
    public void A_cancelled_slurm_rank_stops_the_later_stages_and_a_rerun_finishes_identically()
    {
        using var tmp = new TempDir();
        var sources = Sources("MediatR", "cobra", "requests");
        Assert.True(Build(tmp, sources, "one").ExitCode == 0);
        string[] args = ["--world-size", "3", "--work", tmp.File("work"), "--executor", "slurm"];
        var submitted = Build(tmp, sources, "staged", args);
        Assert.True(submitted.ExitCode == 0, submitted.Stderr);
        var clean = System.Text.RegularExpressions.Regex.Match(submitted.Stdout, @"(?m)^clean: job (\d+)").Groups[1].Value;
        var cancel = Proc.Run("scancel", [$"{clean}_1"]);
        Assert.True(cancel.ExitCode == 0, cancel.Stderr);
        WaitForQueue();
        Assert.False(File.Exists(tmp.File("work/done/clean-1")));
        Assert.False(File.Exists(tmp.File("staged/train.parquet")));

        var rerun = Build(tmp, sources, "staged", [.. args, "--wait"]);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr + rerun.Stdout);
        AssertSameCorpus(tmp, "one", "staged");
        AssertNoLeftovers(tmp.File("work"), tmp.File("staged"));
        Assert.Contains("codelm data stage clean: rank 0 was already done", File.ReadAllText(tmp.File("work/logs/clean-0.log")));
    }

    private static void WaitForQueue()
    {
        var sw = Stopwatch.StartNew();
        while (Proc.Run("squeue", ["-h", "-o", "%i %j"]).Stdout.Contains("codelm-data"))
        {
            if (sw.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException("Slurm jobs still queued after 5 minutes");
            Thread.Sleep(500);
        }
    }

    [Fact]
    public void A_rank_whose_every_source_fails_fails_its_stage_and_nothing_is_written()
    {
        using var tmp = new TempDir();
        var r = Build(tmp, [tmp.File("missing")], "out", "--world-size", "1", "--work", tmp.File("work"));
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        Assert.StartsWith("codelm data build: error: the crawl stage failed on rank 0: exit code 1: codelm data stage: error: none of the 1 sources could be used",
            r.Stderr.Trim().Split('\n')[^1]);
        Assert.False(Directory.Exists(tmp.File("out")));
        Assert.False(File.Exists(tmp.File("work/done/crawl-0")));
    }

    [Fact]
    public void Tokenize_ranks_locally_and_as_a_slurm_array_give_the_one_process_shards()
    {
        using var tmp = new TempDir();
        Assert.True(Build(tmp, Sources("MediatR", "cobra"), "corpus").ExitCode == 0);
        Assert.True(CodeLmCli.Run("tokenizer", "train", "--corpus", tmp.File("corpus"), "--out", tmp.File("tok"), "--vocab-size", "400").ExitCode == 0);
        string[] Tokenize(string outDir) => ["data", "tokenize", "--corpus", tmp.File("corpus"), "--tokenizer", tmp.File("tok"), "--out", tmp.File(outDir), "--chunk-documents", "16"];
        Assert.True(CodeLmCli.Run(Tokenize("one"), null).ExitCode == 0);

        for (int r = 0; r < 3; r++)
        {
            var rank = CodeLmCli.Run([.. Tokenize("local"), "--world-size", "3", "--rank", r.ToString()], null);
            Assert.True(rank.ExitCode == 0, rank.Stderr);
            Assert.False(File.Exists(tmp.File("local/manifest.json")));
        }
        var merge = CodeLmCli.Run(Tokenize("local"), null);
        Assert.True(merge.ExitCode == 0, merge.Stderr);
        Assert.Contains(" 0 chunks tokenized, ", merge.Stdout);

        var dotnet = Environment.ProcessPath!.EndsWith("dotnet") ? Environment.ProcessPath : "dotnet";
        var wrap = string.Join(' ', new[] { dotnet, CodeLmCli.DllPath }.Concat(Tokenize("slurm")).Append("--world-size").Append("3"));
        var array = Proc.Run("sbatch", ["--parsable", "--wait", "--array=0-2", $"--output={tmp.File("tok-%a.log")}", "--wrap", wrap]);
        Assert.True(array.ExitCode == 0, array.Stderr + string.Concat(Directory.GetFiles(tmp.Path, "tok-*.log").Select(File.ReadAllText)));
        Assert.True(CodeLmCli.Run(Tokenize("slurm"), null).ExitCode == 0);

        foreach (var f in Directory.GetFiles(tmp.File("one")).Select(Path.GetFileName))
        {
            Assert.Equal(File.ReadAllBytes(tmp.File($"one/{f}")), File.ReadAllBytes(tmp.File($"local/{f}")));
            Assert.Equal(File.ReadAllBytes(tmp.File($"one/{f}")), File.ReadAllBytes(tmp.File($"slurm/{f}")));
        }
    }

    [Fact]
    public void Kubernetes_indexed_job_manifests_run_pod_by_pod_give_the_same_corpus()
    {
        using var tmp = new TempDir();
        var sources = Sources("MediatR", "cobra", "requests");
        Assert.True(Build(tmp, sources, "one").ExitCode == 0);
        var r = Build(tmp, sources, "k8s", "--world-size", "3", "--work", tmp.File("work"), "--executor", "kubernetes",
            "--image", "registry.example/codelm:0.1", "--volume-claim", "codelm-data", "--mount", tmp.Path, "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);

        // What the cluster would do: every stage's Job, each completion index as one pod running the container's command.
        foreach (var stage in new[] { "crawl", "clean", "buckets", "cluster", "write" })
        {
            var job = k8s.KubernetesYaml.Deserialize<k8s.Models.V1Job>(File.ReadAllText(tmp.File($"work/kubernetes/{stage}.yaml")));
            Assert.Equal(("Indexed", "Never"), (job.Spec.CompletionMode, job.Spec.Template.Spec.RestartPolicy));
            var container = Assert.Single(job.Spec.Template.Spec.Containers);
            Assert.Equal("codelm-data", job.Spec.Template.Spec.Volumes.Single().PersistentVolumeClaim.ClaimName);
            Assert.Equal(("registry.example/codelm:0.1", tmp.Path), (container.Image, container.VolumeMounts.Single().MountPath));
            Assert.Equal("codelm", container.Command[0]);
            for (int index = 0; index < job.Spec.Completions; index++)
            {
                var pod = CodeLmCli.Run(container.Command.Skip(1), container.WorkingDir,
                    env: new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = index.ToString(), ["CODELM_NATIVE_DATA"] = "0" });
                Assert.True(pod.ExitCode == 0, $"{stage} pod {index}: {pod.Stderr}");
            }
        }
        AssertSameCorpus(tmp, "one", "k8s");
    }
}
