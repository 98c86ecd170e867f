using System.Diagnostics;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace CodeLm.Bench.Data;

/// <summary>
/// Where a short `codelm data build` spends its JIT time: runs the command once (after the timed repeats of `cli`, or on
/// its own) with an EventPipe trace of the runtime's JIT events, then sums, per method, the time from
/// MethodJittingStarted to MethodLoadVerbose on the compiling thread. Durations are wall time on that thread, so on a
/// loaded machine they include time the thread waited for a core; the split between assemblies and tiers is the point.
/// </summary>
public static class JitTrace
{
    // usage: jit [--codelm PATH] [--dataset shared|stdlib] [--work DIR]; needs the cache that `cli` filled.
    public static int Run(string[] args)
    {
        var root = DataBench.FindRepoRoot();
        var work = Path.GetFullPath(DataBench.Arg(args, "--work") ?? Path.Combine(Path.GetTempPath(), "codelm-bench-data"));
        var codelm = Path.GetFullPath(DataBench.Arg(args, "--codelm") ?? Path.Combine(root, "Cli", "bin", "Release", "net10.0", "codelm"));
        var dataset = DataBench.Arg(args, "--dataset") ?? "shared";
        var sources = dataset == "stdlib"
            ? [DataBench.StdlibRepo(work)]
            : Directory.GetDirectories(Path.Combine(root, "..", "shared", "corpus"), "*.git").Order(StringComparer.Ordinal).Select(Path.GetFullPath).ToArray();
        var trace = Path.Combine(work, "jit.nettrace");
        File.Delete(trace);
        var psi = new ProcessStartInfo(codelm) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["data", "build", .. sources, "--cache", Path.Combine(work, "cli-cache"), "--out", Path.Combine(work, "jit-out-" + dataset)])
            psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase)).ToList()) psi.Environment.Remove(key);
        psi.Environment["DOTNET_EnableEventPipe"] = "1";
        psi.Environment["DOTNET_EventPipeOutputPath"] = trace;
        psi.Environment["DOTNET_EventPipeConfig"] = "Microsoft-Windows-DotNETRuntime:0x10:5"; // JIT keyword, verbose
        var sw = Stopwatch.StartNew();
        using (var p = Process.Start(psi)!)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"codelm exited {p.ExitCode}: {stderr.Result}");
            Console.WriteLine($"# JIT time of one `codelm data build` ({dataset}), traced: {sw.Elapsed.TotalSeconds:F2} s wall, load {DataBench.LoadAverage()}");
            Console.WriteLine($"codelm {codelm.Replace(root, ".")}; its phases: {stderr.Result.Split('\n').FirstOrDefault(l => l.StartsWith("time: "))?.Trim()}");
        }

        var started = new Dictionary<long, (double T, string Name)>();
        var methods = new List<(double Ms, string Name, string Tier)>();
        using (var source = new EventPipeEventSource(trace))
        {
            source.Clr.MethodJittingStarted += e => started[e.MethodID] = (e.TimeStampRelativeMSec, e.MethodNamespace + "::" + e.MethodName);
            source.Clr.MethodLoadVerbose += e =>
            {
                if (started.Remove(e.MethodID, out var s)) methods.Add((e.TimeStampRelativeMSec - s.T, s.Name, e.OptimizationTier.ToString()));
            };
            source.Process();
        }
        Console.WriteLine($"{methods.Count} methods compiled, {methods.Sum(m => m.Ms) / 1000:F2} s of JIT time summed over threads");
        Console.WriteLine();
        Console.WriteLine("| assembly prefix | tier | methods | JIT ms |");
        Console.WriteLine("|---|---|---:|---:|");
        static string Owner(string name) => string.Join('.', name.Split("::")[0].Split('.').Take(2));
        foreach (var g in methods.GroupBy(m => (Owner(m.Name), m.Tier)).OrderByDescending(g => g.Sum(m => m.Ms)).Take(16))
            Console.WriteLine($"| {g.Key.Item1} | {g.Key.Tier} | {g.Count()} | {g.Sum(m => m.Ms):F0} |");
        Console.WriteLine();
        Console.WriteLine("slowest methods: " + string.Join("; ", methods.OrderByDescending(m => m.Ms).Take(8).Select(m => $"{m.Name} {m.Ms:F1} ms ({m.Tier})")));
        return 0;
    }
}
