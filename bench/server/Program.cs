// End-to-end latency of `codelm serve` over stdio: inline completion with a 1,500-character prefix and at most 48 new
// tokens, p50/p95/max over N requests, cold (new context each time) and cached (the same contexts again), plus a
// typing run (one more character each request: the KV cache is reused). Anchors in the same run: the same server with
// `--precision float32` doing the same work, its requests interleaved with the default precision's one for one (the
// two servers run side by side and take turns, the first alternating), and a bare JSON-RPC round trip (an unknown
// method). With --baseline DLL (another build's Cli/bin/Release/net10.0/codelm.dll, e.g. a copy of main's), that build's
// servers run beside these, interleaved the same way, and their completions are compared text for text. Usage:
//   dotnet run -c Release --project bench/server -- [--trained DIR]... [--no-random] [--requests 200] [--repeats 3] [--precision auto|int8] [--baseline DLL]
//     [--before 1500] [--after 400] (characters around the cursor)
//   dotnet run -c Release --project bench/server -- editor ...   (several candidates and typing along: see EditorBench.cs)
//   dotnet run -c Release --project bench/server -- context ...  (repository context recall and prefill: see ContextBench.cs)
//   dotnet run -c Release --project bench/server -- http|soak ... (`codelm serve --http` under concurrent clients: see HttpBench.cs)
// The `small` preset with random weights (and a tokenizer trained on this repo's sources) is always measured unless
// --no-random; each --trained DIR (e.g. the quickstart's run/best) is measured too.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CodeLm.Model;
using CodeLm.Model.Native;
using CodeLm.Server;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using StreamJsonRpc;

if (args.Length > 0 && args[0] == "editor") return await EditorBench.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "context") return await ContextBench.RunAsync(args[1..]);
if (args.Length > 0 && args[0] is "http" or "soak") return await HttpBench.RunAsync(args[1..], soak: args[0] == "soak");
var inv = CultureInfo.InvariantCulture;
var requests = int.Parse(Arg("--requests") ?? "200", inv);
var repeats = int.Parse(Arg("--repeats") ?? "3", inv);
var precision = Arg("--precision") ?? "auto";
var baseline = Arg("--baseline") is { } b ? Path.GetFullPath(b) : null;
var trained = args.Select((a, i) => (a, i)).Where(x => x.a is "--trained" or "--checkpoint" && x.i + 1 < args.Length).Select(x => Path.GetFullPath(args[x.i + 1])).ToList();
var root = BenchSupport.FindRepoRoot();
var sources = BenchSupport.CSharpSources(root);
var temp = Directory.CreateTempSubdirectory("codelm-bench-server-").FullName;
try
{
    var models = new List<(string Name, string Dir)>();
    if (!args.Contains("--no-random")) models.Add(("`small` preset, random weights", BenchSupport.MakeSmallCheckpoint(temp, sources)));
    models.AddRange(trained.Select(t => ($"trained checkpoint {t}", t)));
    var cases = BenchSupport.MakeCases(sources, requests, int.Parse(Arg("--before") ?? "1500", inv), int.Parse(Arg("--after") ?? "400", inv));
    var codelm = Path.Combine(root, "Cli", "bin", "Release", "net10.0", "codelm.dll");
    if (!File.Exists(codelm)) throw new FileNotFoundException($"build first: dotnet build Cli -c Release ({codelm} is missing)");
    if (baseline != null && !File.Exists(baseline)) throw new FileNotFoundException($"--baseline: {baseline} is missing");
    string[] precisions = [precision, "float32"];
    var variants = precisions.Select(p => new Variant(p, codelm, p))
        .Concat(baseline == null ? [] : precisions.Select(p => new Variant($"{p} (baseline)", baseline, p))).ToArray();
    Console.WriteLine($"# codelm serve latency: {cases.Count} cases, {repeats} repeats, --precision {precision} against --precision float32 interleaved{(baseline == null ? "" : $", and a baseline build ({baseline})")}; " +
                      $"{Environment.ProcessorCount} cores, load average {BenchSupport.LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
    foreach (var (name, dir) in models)
    {
        var tokenizer = CodeTokenizer.Load(CodeLm.Model.Checkpoint.TokenizerDirOf(dir)); // a checkpoint's copy, or a model folder's own
        var loadBefore = BenchSupport.LoadAverage();
        var runs = new List<Dictionary<string, Stats>>();
        var agreement = new List<string>();
        for (var rep = 0; rep < repeats; rep++)
        {
            var raw = await RunOnce(dir, cases, variants, rep);
            runs.Add(raw.ToDictionary(kv => kv.Key, kv => Stats.Of(kv.Value, tokenizer)));
            foreach (var (k, st) in runs[^1]) Console.Error.WriteLine($"run {rep + 1} {k,-26} p50 {st.P50,7:F1} p95 {st.P95,7:F1} max {st.Max,7:F1} ms  tokens shown {st.MeanTokens:F1}");
            if (baseline != null)
                foreach (var key in raw.Keys.Where(k => k != "anchor" && !k.EndsWith("(baseline)")))
                {
                    var same = raw[key].Zip(raw[key + " (baseline)"]).Count(x => x.First.Text == x.Second.Text);
                    agreement.Add($"run {rep + 1} {key}: {same}/{raw[key].Count} completions identical to the baseline's");
                    Console.Error.WriteLine(agreement[^1]);
                }
        }
        Console.WriteLine();
        Console.WriteLine($"## {name}");
        Console.WriteLine($"load average (1/5/15 min) before {loadBefore}, after {BenchSupport.LoadAverage()}");
        Console.WriteLine();
        PrintMarkdown(runs, precisions, cases.Count);
        foreach (var line in agreement) Console.WriteLine($"- {line}");
    }
}
finally
{
    try { Directory.Delete(temp, true); } catch (IOException) { }
}
return 0;

string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }





// One repeat: a server per precision, started together and fed the same requests in turns, so load changes during the
// repeat reach both. Keys are "kind precision" plus "anchor" (a bare round trip to the first server).
static async Task<Dictionary<string, List<(double Ms, string? Text)>>> RunOnce(string checkpoint, List<(string Text, int Offset)> cases, Variant[] variants, int rep)
{
    var servers = new List<ServeClient>();
    var names = variants.Select(v => v.Name).ToArray();
    try
    {
        foreach (var v in variants) servers.Add(await ServeClient.StartAsync(v.Dll, checkpoint, v.Precision, v.Name));
        foreach (var s in servers)
        {
            for (var i = 0; i < cases.Count; i++) await s.OpenAsync($"file:///bench/{i}.cs", cases[i].Text);
            for (var i = 0; i < 20; i++) await s.AnchorAsync(); // JIT the request path
        }
        var results = new Dictionary<string, List<(double, string?)>> { ["anchor"] = [] };
        foreach (var kind in new[] { "cold", "cached", "typing" })
            foreach (var name in names) results[$"{kind} {name}"] = [];

        // The server that goes first alternates from request to request (and from repeat to repeat).
        IEnumerable<int> Turns(int i) => Enumerable.Range(0, servers.Count).Select(k => (i + rep + k) % servers.Count);
        for (var i = 0; i < cases.Count; i++)
        {
            results["anchor"].Add((await servers[0].AnchorAsync(), null));
            foreach (var k in Turns(i)) results[$"cold {names[k]}"].Add(await servers[k].InlineAsync($"file:///bench/{i}.cs", cases[i].Text, cases[i].Offset));
        }
        for (var i = 0; i < cases.Count; i++)
            foreach (var k in Turns(i)) results[$"cached {names[k]}"].Add(await servers[k].InlineAsync($"file:///bench/{i}.cs", cases[i].Text, cases[i].Offset));

        // Typing: one document, one more character before the cursor each request (the client's newest text).
        var doc = cases[0].Text;
        var offset = cases[0].Offset - 40;
        var typed = doc[offset..cases[0].Offset];
        doc = doc.Remove(offset, 40);
        foreach (var s in servers) await s.OpenAsync("file:///bench/typing.cs", doc);
        for (var c = 0; c < typed.Length; c++)
        {
            var pos = BenchSupport.Pos(doc, offset);
            doc = doc.Insert(offset, typed[c].ToString());
            offset++;
            foreach (var k in Turns(c))
            {
                await servers[k].ChangeAsync("file:///bench/typing.cs", c + 2, pos, typed[c].ToString());
                results[$"typing {names[k]}"].Add(await servers[k].InlineAsync("file:///bench/typing.cs", doc, offset));
            }
        }
        return results;
    }
    finally
    {
        foreach (var s in servers) await s.DisposeAsync();
    }
}


void PrintMarkdown(List<Dictionary<string, Stats>> runs, string[] precisions, int n)
{
    var withBaseline = runs[0].Keys.Any(k => k.EndsWith("(baseline)"));
    Console.WriteLine($"| run | requests | p50 ms | p95 ms | max ms | p50 / anchor p50 | p50 / float32 p50 (same run) |{(withBaseline ? " p50 / baseline p50 (same run) |" : "")} tokens shown (mean) |");
    Console.WriteLine($"|---|---:|---:|---:|---:|---:|---:|{(withBaseline ? "---:|" : "")}---:|");
    foreach (var key in runs[0].Keys)
    {
        double Med(Func<Stats, double> f) => BenchSupport.Median(runs.Select(r => f(r[key])).ToList());
        string Spread(Func<Stats, double> f) { var v = runs.Select(r => f(r[key])).ToList(); return $"{Med(f).ToString("F1", inv)} ({v.Min().ToString("F1", inv)}–{v.Max().ToString("F1", inv)})"; }
        var anchorRatio = runs.Select(r => r[key].P50 / r["anchor"].P50).ToList();
        var f32 = key == "anchor" ? null : key.Replace($" {precisions[0]}", " float32");
        var f32Ratio = f32 == null ? "" : Spread2(runs.Select(r => r[key].P50 / r[f32].P50).ToList());
        var before = key + " (baseline)";
        var baselineRatio = !withBaseline ? "" : runs[0].ContainsKey(before) ? $" {Spread2(runs.Select(r => r[key].P50 / r[before].P50).ToList())} |" : " |";
        Console.WriteLine($"| {key} | {runs[0][key].Count} | {Spread(s => s.P50)} | {Spread(s => s.P95)} | {Spread(s => s.Max)} | {BenchSupport.Median(anchorRatio).ToString("F1", inv)}× | {f32Ratio} |{baselineRatio} {Med(s => s.MeanTokens).ToString("F1", inv)} |");
    }
    Console.WriteLine();
    Console.WriteLine($"Median over {runs.Count} runs (min–max over the runs in brackets); {n} cases; `--precision {precisions[0]}` and `--precision float32` servers side by side, requests interleaved.");
}

string Spread2(List<double> v) => $"{BenchSupport.Median(v).ToString("F2", inv)} ({v.Min().ToString("F2", inv)}–{v.Max().ToString("F2", inv)})";


/// <summary>One kind of server in the run: a build (its codelm.dll) at a precision.</summary>
sealed record Variant(string Name, string Dll, string Precision);

sealed record Stats(int Count, double P50, double P95, double Max, double MeanTokens)
{
    public static Stats Of(List<(double Ms, string? Text)> xs, CodeTokenizer tokenizer)
    {
        var ms = xs.Select(x => x.Ms).Order().ToList();
        double P(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        return new Stats(ms.Count, P(0.5), P(0.95), ms[^1], xs.Average(x => x.Text == null ? 0 : tokenizer.Encode(x.Text).Length));
    }
}

