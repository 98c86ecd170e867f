using System.Diagnostics;
using System.Security.Cryptography;
using CodeLm.Common;
using CodeLm.Model.Training;
using CodeLm.Tests;

namespace CodeLm.Model.Tests;

/// <summary>
/// `codelm train` as a child process, SIGKILLed at random moments (checkpoints are written every 5 steps, so many kills
/// land mid-write) and resumed each time: every checkpoint left must load, the leftovers of a killed write must be
/// cleaned up on resume, and the resumed run must end with the same weights as one that was never interrupted.
/// </summary>
public class TrainerKillTests
{
    private static string[] TrainArgs(string shards, string outDir, bool resume) =>
    [
        "train", "--data", shards, "--config", "tiny", "--out", outDir, "--max-steps", "160", "--batch-size", "2",
        "--seq-len", "32", "--checkpoint-interval", "5", "--keep", "2", "--eval-interval", "40", "--eval-batches", "2",
        "--threads", "1", "--warmup", "5", "--log-interval", "40", .. (resume ? new[] { "--resume" } : []),
    ];

    [Fact]
    public void Killed_and_resumed_training_keeps_loadable_checkpoints_and_ends_where_an_unbroken_run_ends()
    {
        Torch.Init();
        using var tmp = new TempDir();
        var shards = TestData.Shards(tmp.Path);
        var unbroken = tmp.File("unbroken");
        var once = CodeLmCli.Run(TrainArgs(shards, unbroken, resume: false), cwd: tmp.Path);
        Assert.True(once.ExitCode == 0, once.Stderr);

        var run = tmp.File("killed");
        var rng = new Random(7);
        var kills = 0;
        for (var round = 0; round < 4; round++)
        {
            using var child = Start(TrainArgs(shards, run, resume: round > 0));
            // Wait for a resumable checkpoint from this round (so --resume has one next time), then kill at a random moment.
            var before = RunCheckpoints.Latest(run);
            var clock = Stopwatch.StartNew();
            while (RunCheckpoints.Latest(run) == before && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
            Thread.Sleep(rng.Next(0, 150));
            if (child.HasExited) break; // finished before the kill: nothing left to interrupt
            child.Kill(); // SIGKILL: no finally blocks, no flushing
            child.WaitForExit();
            kills++;
            foreach (var (_, path) in RunCheckpoints.List(run)) // whatever the kill interrupted, what is listed loads
            {
                var (model, _) = Checkpoint.LoadModel(path, TorchSharp.torch.CPU);
                model.Dispose();
            }
        }
        Assert.True(kills >= 3, $"only {kills} kills landed");

        // A killed write's leftovers, planted as a process that is gone would leave them: a staging folder and a temp file.
        var deadPid = StartAndExit();
        var staging = Path.Combine(run, $".best.tmp-{deadPid}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        File.WriteAllText(Path.Combine(staging, "model.safetensors"), "half");
        File.WriteAllText(Path.Combine(run, $".metrics.jsonl.{deadPid}.{Guid.NewGuid():N}.tmp"), "half");

        var last = CodeLmCli.Run(TrainArgs(shards, run, resume: true), cwd: tmp.Path);
        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.Contains("removed the unfinished best of a stopped run", last.Stdout + last.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(run, ".*", SearchOption.AllDirectories));

        // Exact resume: the same final weights, byte for byte, as the run that was never killed.
        Assert.Equal(Hash(Path.Combine(RunCheckpoints.PathFor(unbroken, 160), Checkpoint.WeightsFile)),
                     Hash(Path.Combine(RunCheckpoints.PathFor(run, 160), Checkpoint.WeightsFile)));
    }

    [Fact]
    public void A_checkpoint_caught_between_its_two_renames_is_put_back_and_live_writers_are_left_alone()
    {
        Torch.Init();
        using var tmp = new TempDir();
        using var model = new Gpt(TestData.TinyConfig(50));
        Checkpoint.Save(tmp.File("best"), model, null);
        var weights = File.ReadAllBytes(Path.Combine(tmp.File("best"), Checkpoint.WeightsFile));
        // What Commit leaves when killed after moving best/ aside and before moving the new one in.
        var deadPid = StartAndExit();
        Directory.Move(tmp.File("best"), tmp.File($".best.old-{deadPid}-{Guid.NewGuid():N}"));
        // The same state of a writer that is still running (this process) is its business: left alone.
        Checkpoint.Save(tmp.File("last"), model, null);
        var liveOld = tmp.File($".last.old-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.Move(tmp.File("last"), liveOld);
        // A staging folder of a writer that is still running (this process) must stay.
        var live = tmp.File($".step-00000010.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(live);

        var done = StagedDirectory.RecoverInterrupted(tmp.Path);
        Assert.Equal(["restored best (a run stopped while replacing it)"], done);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(tmp.File("best"), Checkpoint.WeightsFile)));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(liveOld));
        Assert.Empty(StagedDirectory.RecoverInterrupted(tmp.Path)); // nothing more to do
    }

    private static Process Start(string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CodeLmCli.DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static int StartAndExit()
    {
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
