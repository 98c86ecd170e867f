using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Crawl;

namespace CodeLm.Bench.Data;

/// <summary>
/// Clean + dedup as a user runs it: the Release `codelm` apphost, <c>codelm data build &lt;the 9 shared corpus repos&gt;</c>,
/// timed from process start to exit (start-up, JIT, the warm-cache crawl, scan, dedup and the Parquet write all
/// included), with no DOTNET_/COMPlus_ variable in its environment. The crawl cache is filled once before the first
/// repeat (not timed). Anchor, in the same run and alternating with the command: the raw read of exactly the blobs the
/// cleaner reads, from the same cached clones, with the same thread count (<see cref="DataBench.RawRead"/>).
/// </summary>
public static class CliBench
{
    public static int Run(string[] args)
    {
        int repeats = DataBench.ArgInt(args, "--repeats", 5);
        int jobs = Environment.ProcessorCount; // codelm's default --jobs, which this run does not pass
        var root = DataBench.FindRepoRoot();
        var work = Path.GetFullPath(DataBench.Arg(args, "--work") ?? Path.Combine(Path.GetTempPath(), "codelm-bench-data"));
        var codelm = DataBench.Arg(args, "--codelm") ?? Path.Combine(root, "Cli", "bin", "Release", "net10.0", "codelm");
        if (!File.Exists(codelm)) throw new FileNotFoundException($"build it first: dotnet build -c Release Cli ({codelm})");
        // shared: the 9 shared corpus repos (bare); stdlib: the Python lib tree repository the in-process mode builds.
        var dataset = DataBench.Arg(args, "--dataset") ?? "shared";
        var sources = dataset == "stdlib"
            ? [DataBench.StdlibRepo(work)]
            : Directory.GetDirectories(Path.Combine(root, "..", "shared", "corpus"), "*.git").Order(StringComparer.Ordinal).Select(Path.GetFullPath).ToArray();
        var cache = Path.Combine(work, "cli-cache");
        var outDir = Path.Combine(work, "cli-out-" + dataset);
        string[] build = ["data", "build", .. sources, "--cache", cache, "--out", outDir];

        Console.WriteLine($"# codelm data build benchmark: {dataset}, {sources.Length} repos, {repeats} repeats, codelm's default --jobs ({jobs}), {Environment.ProcessorCount} cores, load {DataBench.LoadAverage()}");
        Console.WriteLine($"command: codelm {string.Join(' ', build.Select(a => a.StartsWith(work) ? "$WORK" + a[work.Length..] : a))}");
        var warm = RunCodelm(codelm, ["data", "crawl", .. sources, "--cache", cache, "--out", outDir]);
        Console.WriteLine($"crawl cache filled first (not timed): {warm.Seconds:F1} s");

        var manifest = CorpusManifest.Load(outDir);
        var o = new CorpusBuildOptions { Sources = sources.Select(s => new RepoSource(s)).ToList(), CacheDir = cache, OutDir = outDir, Parallelism = jobs };
        // --also: a second codelm (e.g. a ReadyToRun publish) timed in the same repeats, on the same cache and bytes.
        // With codelm-data next to codelm, the same codelm is also timed with it turned off (the JIT-compiled commands).
        var also = DataBench.Arg(args, "--also");
        var builds = new List<Build> { new("codelm", codelm, null) };
        if (File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(codelm))!, "codelm-data")))
        {
            builds[0] = new("codelm (native data commands, codelm-data)", codelm, null);
            builds.Add(new("codelm, CODELM_NATIVE_DATA=0 (JIT-compiled data commands)", codelm, "0"));
        }
        if (also != null) builds.Add(new("--also " + also, Path.GetFullPath(also), null));
        var rows = builds.Select(_ => new List<(double Anchor, double Wall, double Cpu, double Ratio, double Startup, string Phases)>()).ToArray();
        long bytes = 0;
        for (int r = 0; r < repeats; r++)
        {
            // The anchor is read before each command's run; who goes first alternates between repeats.
            for (int k = 0; k < builds.Count; k++)
            {
                int b = (r + k) % builds.Count;
                var anchor = DataBench.RawRead(o, manifest, jobs);
                var run = RunCodelm(builds[b], build);
                var startup = RunCodelm(builds[b], ["--version"]);
                bytes = anchor.Bytes;
                double mb = bytes / 1e6, anchorMbs = mb / anchor.Seconds;
                var phases = run.Stderr.Split('\n').FirstOrDefault(l => l.StartsWith("time: "))?[6..].Trim() ?? "?";
                rows[b].Add((anchorMbs, mb / run.Seconds, mb / run.CpuSeconds, mb / run.Seconds / anchorMbs, startup.Seconds, phases));
                Console.Error.WriteLine($"  #{r + 1} {builds[b].Label} load {DataBench.LoadAverage()}: data build {run.Seconds:F2} s = {mb / run.Seconds:F1} MB/s ({run.CpuSeconds:F2} CPU-s; {phases}), " +
                                        $"anchor {anchorMbs:F1} MB/s, ratio {mb / run.Seconds / anchorMbs:F3}, --version {startup.Seconds:F2} s");
            }
        }

        var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, CorpusStats.FileName))).RootElement;
        long inputBytes = stats.GetProperty("input").GetProperty("bytes").GetInt64(), keptBytes = stats.GetProperty("kept").GetProperty("bytes").GetInt64();
        for (int b = 0; b < builds.Count; b++)
        {
            Console.WriteLine();
            Console.WriteLine($"## {builds[b].Label.Replace(root, ".")}: data build, {dataset}: {bytes / 1e6:F1} MB read and cleaned (stats.json: {inputBytes / 1e6:F1} MB in the trees, " +
                              $"{keptBytes / 1e6:F1} MB kept); load at the end {DataBench.LoadAverage()}");
            Console.WriteLine("| figure | median | min | max |");
            Console.WriteLine("|---|---|---|---|");
            DataBench.Line("anchor: raw blob read (MB/s)", rows[b].Select(x => x.Anchor));
            DataBench.Line("codelm data build (MB/s, whole command wall)", rows[b].Select(x => x.Wall));
            DataBench.Line("codelm data build (MB per CPU-second, whole process)", rows[b].Select(x => x.Cpu));
            DataBench.Line("codelm data build / anchor", rows[b].Select(x => x.Ratio));
            DataBench.Line("codelm --version (s, start-up alone)", rows[b].Select(x => x.Startup));
            Console.WriteLine("phases per repeat (codelm's own timing line): " + string.Join(" | ", rows[b].Select(x => x.Phases)));
        }
        return 0;
    }

    private readonly record struct Result(double Seconds, double CpuSeconds, string Stderr);

    /// <summary>A codelm to time; <paramref name="NativeData"/> is CODELM_NATIVE_DATA for it (null: unset).</summary>
    private sealed record Build(string Label, string Path, string? NativeData);

    private static Result RunCodelm(string codelm, string[] args) => RunCodelm(new Build("codelm", codelm, null), args);

    private static Result RunCodelm(Build b, string[] args)
    {
        var codelm = b.Path;
        var psi = new ProcessStartInfo(codelm) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The figure is for codelm as shipped: no JIT or GC knobs inherited from whoever runs the benchmark.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("COMPlus_", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment.Remove("CODELM_NATIVE_DATA");
        if (b.NativeData != null) psi.Environment["CODELM_NATIVE_DATA"] = b.NativeData;
        var cpu0 = ChildrenCpuSeconds();
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        var seconds = sw.Elapsed.TotalSeconds;
        if (p.ExitCode != 0) throw new InvalidOperationException($"codelm {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
        return new Result(seconds, ChildrenCpuSeconds() - cpu0, stderr.Result);
    }

    // CPU time of reaped children (user + system); the difference around one waited-for child is that child's CPU time.
    internal static double ChildrenCpuSeconds()
    {
        if (getrusage(-1 /* RUSAGE_CHILDREN */, out var u) != 0) return double.NaN;
        return u.UserSec + u.UserUsec / 1e6 + u.SysSec + u.SysUsec / 1e6;
    }

    [StructLayout(LayoutKind.Sequential, Size = 144)] // struct rusage on 64-bit Linux: two timevals, then 14 longs
    private struct Rusage { public long UserSec, UserUsec, SysSec, SysUsec; }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out Rusage usage);
}
