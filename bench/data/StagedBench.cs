using System.Diagnostics;
using System.Text.Json;
using CodeLm.DataPipeline.Dedup;

namespace CodeLm.Bench.Data;

/// <summary>
/// The staged build, stage by stage, at world sizes 1 and 2 (ranks as concurrent `codelm data stage` processes, as the
/// local executor runs them), against the one-process `codelm data build` of the same sources in the same repeat.
/// Per stage: wall time, CPU time of its ranks, and MB per CPU-second over the bytes the clean stage reads.
/// </summary>
public static class StagedBench
{
    private static readonly string[] Stages = ["crawl", "clean", "buckets", "cluster", "write"];

    public static int Run(string[] args)
    {
        int repeats = DataBench.ArgInt(args, "--repeats", 3);
        var root = DataBench.FindRepoRoot();
        var work = Path.GetFullPath(DataBench.Arg(args, "--work") ?? Path.Combine(Path.GetTempPath(), "codelm-bench-staged"));
        var codelm = DataBench.Arg(args, "--codelm") ?? Path.Combine(root, "Cli", "bin", "Release", "net10.0", "codelm");
        var dataset = DataBench.Arg(args, "--dataset") ?? "shared";
        var sources = dataset == "stdlib" ? [DataBench.StdlibRepo(work)]
            : Directory.GetDirectories(Path.Combine(root, "..", "shared", "corpus"), "*.git").Order(StringComparer.Ordinal).Select(Path.GetFullPath).ToArray();
        var cache = Path.Combine(work, "cache");
        Console.WriteLine($"# staged data build: {dataset}, {sources.Length} repos, {repeats} repeats, {Environment.ProcessorCount} cores, load {DataBench.LoadAverage()}");
        Time(codelm, ["data", "crawl", .. sources, "--cache", cache, "--out", Path.Combine(work, "warm")], null); // fills the clone cache

        var rows = new Dictionary<string, List<(double Wall, double Cpu)>>();
        double mb = 0;
        for (int r = 0; r < repeats; r++)
        {
            var one = Path.Combine(work, "one");
            var t = Time(codelm, ["data", "build", .. sources, "--cache", cache, "--out", one], null);
            using (var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(one, "stats.json"))))
                mb = stats.RootElement.GetProperty("input").GetProperty("bytes").GetInt64() / 1e6;
            Add(rows, "one process (data build)", t);
            foreach (var world in new[] { 1, 2 })
            {
                var dir = Path.Combine(work, $"w{world}");
                if (Directory.Exists(dir)) Directory.Delete(dir, true);
                var outDir = Path.Combine(work, $"out{world}");
                // The build records its arguments and plans; with every stage run below, its own run finds all ranks done.
                var plan = Time(codelm, ["data", "build", .. sources, "--cache", cache, "--out", outDir, "--world-size", world.ToString(), "--work", dir, "--executor", "slurm", "--dry-run"], null);
                foreach (var stage in Stages)
                {
                    int ranks = stage is "cluster" or "write" ? 1 : world;
                    var s = Time(codelm, ["data", "stage", stage, "--world-size", world.ToString(), "--work", dir, "--jobs", Math.Max(1, Environment.ProcessorCount / world).ToString()], ranks);
                    Add(rows, $"world {world}: {stage}", s);
                }
            }
            Console.Error.WriteLine($"  repeat {r + 1} done, load {DataBench.LoadAverage()}");
        }
        Console.WriteLine($"{mb:F1} MB read by the clean stage");
        Console.WriteLine("| step | wall s, median (min–max) | CPU s, median | MB/s wall | MB per CPU-second |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, xs) in rows)
        {
            var walls = xs.Select(x => x.Wall).Order().ToList();
            var cpus = xs.Select(x => x.Cpu).Order().ToList();
            double w = walls[walls.Count / 2], c = cpus[cpus.Count / 2];
            Console.WriteLine($"| {name} | {w:F2} ({walls[0]:F2}–{walls[^1]:F2}) | {c:F2} | {mb / w:F1} | {mb / c:F1} |");
        }
        return 0;
    }

    private static void Add(Dictionary<string, List<(double, double)>> rows, string key, (double, double) v)
    {
        if (!rows.TryGetValue(key, out var list)) rows[key] = list = [];
        list.Add(v);
    }

    /// <summary>Runs the command (as <paramref name="ranks"/> concurrent ranks when given); wall and children's CPU seconds.</summary>
    private static (double Wall, double Cpu) Time(string codelm, string[] args, int? ranks)
    {
        var cpu0 = CliBench.ChildrenCpuSeconds();
        var sw = Stopwatch.StartNew();
        var procs = Enumerable.Range(0, ranks ?? 1).Select(r =>
        {
            var psi = new ProcessStartInfo(codelm) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in ranks == null ? args : [.. args, "--rank", r.ToString()]) psi.ArgumentList.Add(a);
            var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            return (p, err: p.StandardError.ReadToEndAsync());
        }).ToList();
        foreach (var (p, err) in procs)
        {
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"codelm {string.Join(' ', args)} exited {p.ExitCode}: {err.Result}");
            p.Dispose();
        }
        return (sw.Elapsed.TotalSeconds, CliBench.ChildrenCpuSeconds() - cpu0);
    }


    /// <summary>
    /// The cluster stage's memory per million files, from synthetic signatures (no texts): the whole signature matrix,
    /// one band's keys at a time, the union-find, and the near-duplicate walk, as the cluster stage holds them.
    /// </summary>
    public static int ClusterMemory(string[] args)
    {
        int files = DataBench.ArgInt(args, "--files", 1_000_000);
        var o = new DedupOptions();
        var before = PeakRss();
        var rng = new Random(1);
        var signatures = new uint[(long)files * o.Permutations];
        for (long i = 0; i < signatures.Length; i++) signatures[i] = (uint)rng.Next();
        // One file in a hundred is a near copy of the one before it (its first 200 of 256 values).
        for (int f = 1; f < files; f += 100) Array.Copy(signatures, (long)(f - 1) * o.Permutations, signatures, (long)f * o.Permutations, 200);
        var eligible = Enumerable.Repeat(true, files).ToArray();
        var sw = Stopwatch.StartNew();
        var result = NearDuplicateFinder.Find(signatures, eligible, o, default, band => NearDuplicateFinder.BandKeys(signatures, files, band, o));
        var peak = PeakRss();
        Console.WriteLine($"cluster stage core on {files:N0} synthetic files: {sw.Elapsed.TotalSeconds:F1} s, {result.VerifiedPairs:N0} verified pairs, " +
                          $"peak RSS {peak / 1048576.0:F0} MiB ({(peak - before) / 1048576.0:F0} MiB over the process start), " +
                          $"signatures {signatures.Length * 4L / 1048576.0:F0} MiB, one band's keys {files * 8L / 1048576.0:F0} MiB");
        return 0;
    }

    private static long PeakRss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }
}
