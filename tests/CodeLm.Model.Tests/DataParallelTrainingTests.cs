using System.Diagnostics;
using CodeLm.Model.Training;
using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

/// <summary>Shards of the shared corpus (every repository), built once with the real commands, for the data-parallel runs.</summary>
public sealed class SharedCorpusShards : IDisposable
{
    private readonly TempDir _tmp = new();

    public SharedCorpusShards()
    {
        var repos = Directory.GetDirectories(Path.Combine(TestPaths.Shared, "corpus"), "*.git").Order();
        Run(["data", "build", .. repos, "--out", _tmp.File("corpus")]);
        Run(["tokenizer", "train", "--corpus", _tmp.File("corpus"), "--out", _tmp.File("tokenizer"), "--vocab-size", "4096"]);
        Run(["data", "tokenize", "--corpus", _tmp.File("corpus"), "--tokenizer", _tmp.File("tokenizer"), "--out", Dir]);
    }

    public string Dir => _tmp.File("shards");

    private void Run(string[] args)
    {
        var r = CodeLmCli.Run(args, cwd: _tmp.Path);
        if (r.ExitCode != 0) throw new InvalidOperationException($"codelm {string.Join(' ', args)}: {r.Stderr}");
    }

    public void Dispose() => _tmp.Dispose();
}

/// <summary>
/// Data-parallel training for real: two ranks started by Open MPI's mpirun and by Slurm's srun (PMIx), averaging
/// gradients over Open MPI, against one process reading the whole global batch. Rank deaths and stalls, and resuming on
/// another number of ranks.
/// </summary>
public class DataParallelTrainingTests(SharedCorpusShards shards) : IClassFixture<SharedCorpusShards>
{
    // mpirun refuses root unless told twice; CI runs as root. Containers may forbid the cross-process reads Open MPI's
    // shared-memory transport uses for large messages, so it copies through shared memory instead.
    private static readonly Dictionary<string, string> MpiEnv = new()
    {
        ["OMPI_ALLOW_RUN_AS_ROOT"] = "1", ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1", ["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none",
    };

    private string[] Train(string outDir, int batch, params string[] more) => Train(outDir, batch, 50, more);

    private string[] Train(string outDir, int batch, int steps, params string[] more) =>
    [
        "train", "--data", shards.Dir, "--config", "tiny", "--out", outDir, "--max-steps", steps.ToString(), "--warmup", "5", "--eval-interval", "25",
        "--eval-batches", "2", "--threads", "1", "--log-interval", "25", "--batch-size", batch.ToString(), .. more,
    ];

    private static Proc.Result Mpirun(string[] args, int ranks = 2) =>
        Proc.Run("mpirun", ["--oversubscribe", "-np", ranks.ToString(), "dotnet", CodeLmCli.DllPath, .. args], timeoutMs: 600_000, env: MpiEnv);

    [Fact]
    public void Two_ranks_under_mpirun_or_srun_reach_the_weights_of_one_process_with_the_whole_batch()
    {
        using var tmp = new TempDir();
        var whole = CodeLmCli.Run(Train(tmp.File("whole"), 8));
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        var accumulated = CodeLmCli.Run(Train(tmp.File("accumulated"), 4, "--grad-accum", "2"));
        Assert.True(accumulated.ExitCode == 0, accumulated.Stderr);
        var mpi = Mpirun(Train(tmp.File("mpirun"), 4));
        Assert.True(mpi.ExitCode == 0, mpi.Stderr);
        Assert.Contains("data parallel: 2 ranks (mpirun, Open MPI", mpi.Stderr);
        Assert.Contains("global batch 8 sequences = 4 per micro-batch × 1 micro-batches × 2 ranks", mpi.Stderr);
        // Rank 0 reports for the job. (mpirun gives ranks a terminal for stdout, so .NET writes its keypad sequence first.)
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(mpi.Stdout, "Done: 50 steps"));
        var srun = Proc.Run("srun", ["--mpi=pmix", "-n", "2", "dotnet", CodeLmCli.DllPath, .. Train(tmp.File("srun"), 4)], timeoutMs: 600_000);
        Assert.True(srun.ExitCode == 0, srun.Stderr);
        Assert.Contains("data parallel: 2 ranks (srun", srun.Stderr);

        // Two ranks for the first 25 steps, then one process with the same global batch.
        var firstHalf = Mpirun(Train(tmp.File("switched"), 4, "--stop-at", "25"));
        Assert.True(firstHalf.ExitCode == 0, firstHalf.Stderr);
        var secondHalf = CodeLmCli.Run(Train(tmp.File("switched"), 8, "--resume"));
        Assert.True(secondHalf.ExitCode == 0, secondHalf.Stderr);

        Torch.Init();
        var reference = Weights(tmp.File("whole"));
        foreach (var run in new[] { "accumulated", "mpirun", "srun", "switched" })
        {
            var diff = MaxAbsDifference(reference, Weights(tmp.File(run)));
            Assert.True(diff < 1e-5, $"{run}: weights differ from the one-process batch-8 run by up to {diff:E2} after 50 steps");
        }
        var metrics = File.ReadAllLines(Path.Combine(tmp.File("mpirun"), MetricsLog.JsonlFile)).Where(l => l.Contains("\"train\""));
        Assert.All(metrics, l => Assert.Contains("\"allreduce_s\"", l));
    }

    [Fact]
    public void A_killed_rank_stops_the_other_with_a_clear_error_and_the_run_resumes_on_one_rank_with_the_same_global_batch()
    {
        using var tmp = new TempDir();
        var run = tmp.File("run");
        var args = Train(run, 4, 400, "--checkpoint-interval", "5", "--collective-timeout", "20");
        var (exit, stderr, seconds) = KillRankOne(args, afterCheckpoint: 10, signal: "KILL");
        Assert.NotEqual(0, exit);
        Assert.True(seconds < 20, $"the job took {seconds:F1} s to stop after the kill");
        Assert.Contains("codelm train: error: rank 0 of 2: stopped by the launcher while waiting for the other ranks", stderr);

        var smaller = CodeLmCli.Run(Train(run, 4, 400, "--resume"));
        Assert.Equal(1, smaller.ExitCode);
        Assert.Contains("--batch-size cannot resume on 1 rank(s) as asked: the run's global batch was 8 sequences (4 × 1 micro-batches × 2 rank(s))", smaller.Stderr);
        var latest = RunCheckpoints.Latest(run)!;
        var resumed = CodeLmCli.Run(Train(run, 8, 400, "--resume", "--stop-at", $"{RunCheckpoints.List(run)[^1].Step + 5}"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"resumed from {latest}", resumed.Stderr);
    }

    [Fact]
    public void A_stalled_rank_makes_the_other_time_out_with_a_clear_error()
    {
        using var tmp = new TempDir();
        var args = Train(tmp.File("run"), 4, 400, "--checkpoint-interval", "5", "--collective-timeout", "8");
        var (exit, stderr, seconds) = KillRankOne(args, afterCheckpoint: 5, signal: "STOP");
        Assert.NotEqual(0, exit);
        Assert.InRange(seconds, 7, 40);
        Assert.Contains("codelm train: error: rank 0 of 2: the all-reduce did not complete within 8 s; another rank has died or stalls.", stderr);
        Assert.Contains("launch it again with --resume", stderr);
    }

    [Fact]
    public void Cpu_ranks_started_by_torchrun_are_told_to_use_an_mpi_launcher()
    {
        using var tmp = new TempDir();
        var env = new Dictionary<string, string> { ["RANK"] = "0", ["WORLD_SIZE"] = "2", ["LOCAL_RANK"] = "0" };
        var r = CodeLmCli.Run(Train(tmp.File("run"), 4, "--device", "cpu"), cwd: null, env: env);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("codelm train: error: CPU ranks average their gradients over MPI, which torchrun does not set up: launch them with mpirun -np N, or srun --mpi=pmix.", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(tmp.File("run"), RunCheckpoints.Folder)));
    }

    /// <summary>Starts a 2-rank job, waits for a checkpoint, signals rank 1, and times how long the job takes to end.</summary>
    private static (int Exit, string Stderr, double Seconds) KillRankOne(string[] args, int afterCheckpoint, string signal)
    {
        var psi = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--oversubscribe", "-np", "2", "dotnet", CodeLmCli.DllPath }.Concat(args)) psi.ArgumentList.Add(a);
        foreach (var (k, v) in MpiEnv) psi.Environment[k] = v;
        using var job = Process.Start(psi)!;
        var stdout = job.StandardOutput.ReadToEndAsync();
        var stderr = job.StandardError.ReadToEndAsync();
        var outDir = args[Array.IndexOf(args, "--out") + 1];
        var clock = Stopwatch.StartNew();
        while ((RunCheckpoints.List(outDir) is var l && (l.Count == 0 || l[^1].Step < afterCheckpoint)) && !job.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
            Thread.Sleep(20);
        if (job.HasExited) Assert.Fail($"the job ended before rank 1 was signalled: {stderr.Result}");
        var rankOne = RankProcess(1);
        Assert.True(rankOne > 0, "rank 1's process was not found");
        Assert.Equal(0, Proc.Run("kill", [$"-{signal}", rankOne.ToString()]).ExitCode);
        var stopped = Stopwatch.StartNew();
        if (!job.WaitForExit(120_000)) { job.Kill(entireProcessTree: true); Assert.Fail("the job did not stop within 2 minutes of losing a rank"); }
        return (job.ExitCode, stderr.Result + stdout.Result, stopped.Elapsed.TotalSeconds);
    }

    /// <summary>The pid of the rank mpirun started with OMPI_COMM_WORLD_RANK=<paramref name="rank"/>.</summary>
    private static int RankProcess(int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (!cmd.Contains("codelm.dll\0train", StringComparison.Ordinal)) continue;
                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
            }
            catch (IOException) { } // exited meanwhile
            catch (UnauthorizedAccessException) { }
        }
        return -1;
    }

    private static Dictionary<string, Tensor> Weights(string runDir) =>
        SafeTensors.Load(Path.Combine(RunCheckpoints.PathFor(runDir, 50), Checkpoint.WeightsFile)).Tensors;

    private static double MaxAbsDifference(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        return a.Keys.Max(k => (a[k] - b[k]).abs().max().item<float>());
    }
}
