using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace CodeLm.Bench.Train;

/// <summary>
/// Data-parallel training on this machine's two cores: `mpirun -np 2 codelm train`, one thread and half the batch per
/// rank, against the anchor of one process with two threads and the whole batch, in interleaved rounds. Both read the
/// same global batch, so they take the same steps; the figure is the job's throughput against the anchor's and the
/// share of a step spent in the all-reduce (metrics.jsonl's allreduce_s).
/// </summary>
public static class DataParallelBench
{
    public static void Run(BenchSettings s, string repoRoot, int rounds, int steps)
    {
        var codelm = Path.Combine(repoRoot, "Cli", "bin", "Release", "net10.0", "codelm.dll");
        var anchor = new List<double>();
        var job = new List<double>();
        var share = new List<double>();
        var comm = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            var one = Train(codelm, s, steps, Path.Combine(s.Work, $"dp-one-{round}"), ranks: 1);
            var two = Train(codelm, s, steps, Path.Combine(s.Work, $"dp-two-{round}"), ranks: 2);
            anchor.Add(one.TokensPerSecond);
            job.Add(two.TokensPerSecond);
            share.Add(two.AllReduceSeconds / two.StepSeconds);
            comm.Add(two.AllReduceSeconds);
            Console.Error.WriteLine(FormattableString.Invariant($"round {round + 1}: one process {one.TokensPerSecond:F0} tok/s, 2 ranks {two.TokensPerSecond:F0} tok/s, all-reduce {two.AllReduceSeconds * 1e3:F2} ms of {two.StepSeconds * 1e3:F1} ms"));
        }
        var ratios = job.Zip(anchor, (j, a) => j / a).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{s.Preset}, global batch {s.Batch} x {s.Seq}, {steps} steps x {rounds} rounds: one process (2 threads) {Median(anchor):F0} tok/s; " +
            $"mpirun -np 2 (1 thread each) {Median(job):F0} tok/s = {Median(ratios):F3}x (range {ratios.Min():F3}-{ratios.Max():F3}); " +
            $"all-reduce {Median(comm) * 1e3:F2} ms per step = {Median(share):P2} of the step (range {share.Min():P2}-{share.Max():P2})"));
    }

    private sealed record Measured(double TokensPerSecond, double StepSeconds, double AllReduceSeconds);

    private static Measured Train(string codelm, BenchSettings s, int steps, string outDir, int ranks)
    {
        if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        int batch = s.Batch / ranks, threads = Math.Max(1, s.Threads / ranks);
        string[] train = ["dotnet", codelm, "train", "--data", s.Shards, "--config", s.Preset, "--out", outDir, "--max-steps", $"{steps}",
            "--warmup", "2", "--eval-interval", $"{steps}", "--eval-batches", "1", "--batch-size", $"{batch}", "--seq-len", $"{s.Seq}",
            "--threads", $"{threads}", "--log-interval", $"{steps}"];
        string[] command = ranks == 1 ? train : ["mpirun", "--oversubscribe", "-np", $"{ranks}", .. train];
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed: {err.Result}");
        // The first steps warm up, the last one evaluates: the steady state is in between.
        var lines = File.ReadLines(Path.Combine(outDir, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!)
            .Where(n => n["type"]!.GetValue<string>() == "train").Skip(3).SkipLast(1).ToList();
        return new Measured(Median(lines.Select(n => n["tokens_per_s"]!.GetValue<double>())), Median(lines.Select(n => n["step_s"]!.GetValue<double>())),
            ranks == 1 ? 0 : Median(lines.Select(n => n["allreduce_s"]!.GetValue<double>())));
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
