using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Model.Native;

namespace CodeLm.Bench.Train;

/// <summary>
/// The same training run under each C allocator setting, each in its own process (an allocator is chosen once per
/// process), interleaved round by round so machine load hits every setting alike. The first row is glibc as it comes,
/// which CodeLm used before it tuned malloc at start-up; the others are the candidates that were measured.
/// </summary>
public static class AllocatorBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const string LibDir = "/usr/lib/x86_64-linux-gnu";

    private sealed record Variant(string Name, Dictionary<string, string> Env);

    private static IEnumerable<Variant> Variants()
    {
        yield return new("glibc malloc untouched (CODELM_MALLOC=system)", new() { [NativeAllocator.Variable] = "system" });
        yield return new("CodeLm default: tuned at start-up", new());
        yield return new("GLIBC_TUNABLES mmap_max=0, trim 4 GiB (the issue's row)", new() { ["GLIBC_TUNABLES"] = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296" });
        // Preloaded allocators replace malloc, so CodeLm's glibc tuning is off for them.
        if (File.Exists($"{LibDir}/libtcmalloc_minimal.so.4"))
            yield return new("LD_PRELOAD tcmalloc (libtcmalloc-minimal4)", new() { ["LD_PRELOAD"] = $"{LibDir}/libtcmalloc_minimal.so.4", [NativeAllocator.Variable] = "system" });
        if (File.Exists($"{LibDir}/libjemalloc.so.2"))
            yield return new("LD_PRELOAD jemalloc (libjemalloc2)", new() { ["LD_PRELOAD"] = $"{LibDir}/libjemalloc.so.2", [NativeAllocator.Variable] = "system" });
    }

    public static void Run(BenchSettings s, int rounds, int steps, IReadOnlyList<string> childArgs)
    {
        var variants = Variants().ToList();
        var results = variants.ToDictionary(v => v.Name, _ => new List<(double Wall, JsonNode Json)>());
        for (int r = 0; r < rounds; r++)
            foreach (var v in variants)
            {
                var (wall, json) = RunChild(v, childArgs);
                results[v.Name].Add((wall, json));
                Console.Error.WriteLine(string.Create(Inv, $"round {r}, {v.Name}: {wall:F1} s, {json["tokens_per_s"]!.GetValue<double>():F0} tok/s"));
            }

        Console.WriteLine(string.Create(Inv, $"preset {s.Preset}, batch {s.Batch} x {s.Seq}, {steps} steps, {s.Threads} threads, {rounds} rounds; glibc {NativeAllocator.GlibcVersion ?? "(not glibc)"}; median (min-max) over rounds"));
        Console.WriteLine("| setting | wall s | user s | kernel s | minor faults | faults/step | kernel share (steps) | tokens/s | peak RSS MiB | final loss |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var reference = results[variants[0].Name][0].Json["losses"]!.ToJsonString();
        var differing = variants.Where(v => results[v.Name].Any(x => x.Json["losses"]!.ToJsonString() != reference)).Select(v => v.Name).ToHashSet();
        foreach (var v in variants)
        {
            var runs = results[v.Name];
            string Cell(Func<(double Wall, JsonNode Json), double> f, string fmt) => Spread(runs.Select(f), fmt);
            double D((double, JsonNode J) x, string k) => x.J[k]!.GetValue<double>();
            Console.WriteLine($"| {v.Name} | {Cell(x => x.Wall, "F1")} | {Cell(x => D(x, "user_s"), "F1")} | {Cell(x => D(x, "kernel_s"), "F1")} | " +
                $"{Cell(x => D(x, "minor_faults") / 1e6, "F2")} M | {Cell(x => D(x, "faults_per_step"), "F0")} | {Cell(x => D(x, "kernel_share_steps") * 100, "F1")} % | " +
                $"{Cell(x => D(x, "tokens_per_s"), "F0")} | {Cell(x => D(x, "max_rss_mib"), "F0")} | {D(runs[0], "final_loss").ToString("F4", Inv)}{(differing.Contains(v.Name) ? " (losses differ!)" : "")} |");
        }
        Console.WriteLine("losses bit-identical across settings: " + (differing.Count == 0 ? "yes" : "NO"));
    }

    /// <summary>The child's side: one training run, its figures as one JSON line on stdout.</summary>
    public static JsonObject Measure(Func<(double TokensPerSecond, IReadOnlyList<double> Losses, ProcessUsage Steps, int StepCount)> train)
    {
        var (tps, losses, steps, count) = train();
        var whole = ProcessUsage.Now();
        return new JsonObject
        {
            ["allocator"] = NativeAllocator.Mode.ToString(),
            ["tokens_per_s"] = tps,
            ["user_s"] = whole.UserSeconds,
            ["kernel_s"] = whole.KernelSeconds,
            ["minor_faults"] = whole.MinorFaults,
            ["max_rss_mib"] = whole.MaxRssKib / 1024.0,
            ["faults_per_step"] = (double)steps.MinorFaults / count,
            ["kernel_share_steps"] = steps.KernelShare,
            ["final_loss"] = losses[^1],
            ["losses"] = new JsonArray(losses.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()),
        };
    }

    private static (double Wall, JsonNode Json) RunChild(Variant v, IReadOnlyList<string> childArgs)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in childArgs) psi.ArgumentList.Add(a);
        psi.Environment.Remove(NativeAllocator.Variable);
        psi.Environment.Remove("GLIBC_TUNABLES");
        psi.Environment.Remove("LD_PRELOAD");
        psi.Environment.Remove("CODELM_MALLOC_REEXEC");
        foreach (var (k, val) in v.Env) psi.Environment[k] = val;
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        double wall = sw.Elapsed.TotalSeconds;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{v.Name}: the training child failed: {errTask.Result}");
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return (wall, JsonNode.Parse(last)!);
    }

    private static string Spread(IEnumerable<double> values, string fmt)
    {
        var a = values.Order().ToArray();
        double med = a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
        return a.Length == 1 ? med.ToString(fmt, Inv) : $"{med.ToString(fmt, Inv)} ({a[0].ToString(fmt, Inv)}–{a[^1].ToString(fmt, Inv)})";
    }
}
