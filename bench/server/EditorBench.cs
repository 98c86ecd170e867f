using System.Globalization;
using System.Text.RegularExpressions;

/// <summary>
/// What the editor features cost in `codelm serve`, over stdio like the editor: (1) the first item's latency with three
/// candidates generated on the first cycle (the default), against one candidate (the anchor) and three generated
/// eagerly, the three servers side by side with requests interleaved; plus the latency of that first cycle; (2) typing
/// along a shown completion, one character a request: how many requests ran the model, and their latency against a bare
/// JSON-RPC round trip. Usage:
///   dotnet bench/server/bin/Release/net10.0/CodeLm.Bench.Server.dll editor [--trained DIR] [--requests 40] [--repeats 3] [--typed 20]
/// Without --trained the `small` preset with random weights is measured.
/// </summary>
static class EditorBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Variant(string Name, object Settings);

    public static async Task<int> RunAsync(string[] args)
    {
        string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        var requests = int.Parse(Arg("--requests") ?? "40", Inv);
        var repeats = int.Parse(Arg("--repeats") ?? "3", Inv);
        var typedChars = int.Parse(Arg("--typed") ?? "20", Inv);
        var root = BenchSupport.FindRepoRoot();
        var sources = BenchSupport.CSharpSources(root);
        var codelm = Path.Combine(root, "Cli", "bin", "Release", "net10.0", "codelm.dll");
        if (!File.Exists(codelm)) throw new FileNotFoundException($"build first: dotnet build Cli -c Release ({codelm} is missing)");
        var temp = Directory.CreateTempSubdirectory("codelm-bench-editor-").FullName;
        try
        {
            var checkpoint = Arg("--trained") is { } t ? Path.GetFullPath(t) : BenchSupport.MakeSmallCheckpoint(temp, sources);
            var cases = BenchSupport.MakeCases(sources, requests, 1500, 400);
            Variant[] variants =
            [
                new("one candidate", new { maxNewTokens = 48, candidates = 1 }),
                new("3 on cycle (default)", new { maxNewTokens = 48 }),
                new("3 eager", new { maxNewTokens = 48, candidateMode = "eager" }),
            ];
            Console.WriteLine($"# codelm serve, editor features: {checkpoint}; {cases.Count} cases, {repeats} repeats; {Environment.ProcessorCount} cores, " +
                              $"load average {BenchSupport.LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            var runs = new List<Dictionary<string, List<double>>>();
            var typing = new List<(int Requests, long Generated, List<double> Ms, List<double> Anchor)>();
            var items = new List<double>();
            for (var rep = 0; rep < repeats; rep++)
            {
                runs.Add(await LatencyRunAsync(codelm, checkpoint, cases, variants, rep, items));
                typing.Add(await TypingRunAsync(codelm, checkpoint, cases, typedChars));
                Console.Error.WriteLine($"repeat {rep + 1}: " + string.Join(", ", runs[^1].Select(kv => $"{kv.Key} p50 {BenchSupport.Median(kv.Value):F0} ms")) +
                                        $"; typing along: {typing[^1].Requests} requests, {typing[^1].Generated} generations");
            }
            Print(runs, typing, items, variants[0].Name);
            return 0;
        }
        finally
        {
            try { Directory.Delete(temp, true); } catch (IOException) { }
        }
    }

    private static async Task<Dictionary<string, List<double>>> LatencyRunAsync(string codelm, string checkpoint, List<(string Text, int Offset)> cases,
        Variant[] variants, int rep, List<double> items)
    {
        var servers = new List<ServeClient>();
        try
        {
            foreach (var v in variants) servers.Add(await ServeClient.StartAsync(codelm, checkpoint, "auto", "editor " + v.Name, v.Settings));
            foreach (var s in servers)
                for (var i = 0; i < cases.Count; i++) await s.OpenAsync($"file:///bench/{i}.cs", cases[i].Text);
            var ms = variants.ToDictionary(v => "first item, " + v.Name, _ => new List<double>());
            ms["first cycle, 3 on cycle (default)"] = [];
            for (var i = 0; i < cases.Count; i++)
                for (var k = 0; k < servers.Count; k++)
                {
                    var j = (i + rep + k) % servers.Count; // who goes first alternates
                    var (t, _) = await servers[j].InlineItemsAsync($"file:///bench/{i}.cs", cases[i].Text, cases[i].Offset);
                    ms["first item, " + variants[j].Name].Add(t);
                    if (j != 1) continue;
                    var (cycle, shown) = await servers[j].InlineItemsAsync($"file:///bench/{i}.cs", cases[i].Text, cases[i].Offset, invoked: true);
                    ms["first cycle, 3 on cycle (default)"].Add(cycle);
                    items.Add(shown.Length);
                }
            return ms;
        }
        finally
        {
            foreach (var s in servers) await s.DisposeAsync();
        }
    }

    /// <summary>
    /// For each case: one completion, then its first <paramref name="chars"/> characters typed one at a time, each followed
    /// by a request. The server's own counters (its last "server stopping" log line) say how many requests ran the model.
    /// </summary>
    private static async Task<(int Requests, long Generated, List<double> Ms, List<double> Anchor)> TypingRunAsync(string codelm, string checkpoint,
        List<(string Text, int Offset)> cases, int chars)
    {
        var ms = new List<double>();
        var anchor = new List<double>();
        long firstRequests = 0;
        var server = await ServeClient.StartAsync(codelm, checkpoint, "auto", "editor typing", new { maxNewTokens = 48 });
        await using (server)
        {
            for (var i = 0; i < 20; i++) await server.AnchorAsync();
            for (var i = 0; i < cases.Count; i++)
            {
                var uri = $"file:///bench/typing-{i}.cs";
                var (doc, offset) = cases[i];
                await server.OpenAsync(uri, doc);
                var (_, shown) = await server.InlineAsync(uri, doc, offset);
                firstRequests++;
                if (shown == null) continue;
                for (var c = 0; c < Math.Min(chars, shown.Length - 1); c++)
                {
                    var pos = BenchSupport.Pos(doc, offset);
                    doc = doc.Insert(offset, shown[c].ToString());
                    offset++;
                    await server.ChangeAsync(uri, c + 2, pos, shown[c].ToString());
                    anchor.Add(await server.AnchorAsync());
                    var (t, rest) = await server.InlineAsync(uri, doc, offset);
                    if (rest != shown[(c + 1)..]) throw new InvalidOperationException($"typing along '{shown}' gave '{rest}' after {c + 1} characters");
                    ms.Add(t);
                }
            }
        }
        var stopping = File.ReadLines(server.LogPath).Last(l => l.Contains("server stopping", StringComparison.Ordinal));
        var generated = long.Parse(Regex.Match(stopping, @"(\d+) generated").Groups[1].Value, Inv);
        return (ms.Count, generated - firstRequests, ms, anchor);
    }

    private static void Print(List<Dictionary<string, List<double>>> runs, List<(int Requests, long Generated, List<double> Ms, List<double> Anchor)> typing,
        List<double> items, string anchorName)
    {
        string F(double v) => v.ToString("F1", Inv);
        string Spread(IEnumerable<double> v) { var l = v.ToList(); return $"{F(BenchSupport.Median(l))} ({F(l.Min())}–{F(l.Max())})"; }
        Console.WriteLine();
        Console.WriteLine("| request | p50 ms | p95 ms | p50 / one candidate's p50 (same run) |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var key in runs[0].Keys)
        {
            var ratio = runs.Select(r => BenchSupport.Median(r[key]) / BenchSupport.Median(r["first item, " + anchorName])).ToList();
            Console.WriteLine($"| {key} | {Spread(runs.Select(r => BenchSupport.Median(r[key])))} | {Spread(runs.Select(r => BenchSupport.Percentile(r[key], 0.95)))} | " +
                              $"{ratio.Order().ElementAt(ratio.Count / 2):F2} ({ratio.Min():F2}–{ratio.Max():F2}) |");
        }
        Console.WriteLine($"Items per first cycle: mean {items.Average():F2} of 3 (distinct after post-processing).");
        Console.WriteLine();
        Console.WriteLine("| typing along a shown completion | requests | model runs | p50 ms | p95 ms | anchor: bare round trip p50 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        for (var r = 0; r < typing.Count; r++)
        {
            var x = typing[r];
            Console.WriteLine($"| repeat {r + 1} | {x.Requests} | {x.Generated} | {F(BenchSupport.Median(x.Ms))} | {F(BenchSupport.Percentile(x.Ms, 0.95))} | {F(BenchSupport.Median(x.Anchor))} |");
        }
        Console.WriteLine();
        Console.WriteLine("Medians over the repeats, min–max over the repeats in brackets.");
    }
}
