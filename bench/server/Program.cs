// End-to-end latency of `codelm serve` over stdio: inline completion with a 1,500-character prefix and at most 48 new
// tokens, p50/p95/max over N requests, cold (new context each time) and cached (the same contexts again), plus a
// typing run (one more character each request: the KV cache is reused) and the anchor, a bare JSON-RPC round trip
// (an unknown method) in the same run. Usage:
//   dotnet run -c Release --project bench/server -- [--checkpoint DIR] [--requests 200] [--repeats 3] [--precision auto|int8|float32]
// Without --checkpoint it builds the `small` preset with random weights and a tokenizer trained on this repo's sources.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CodeLm.Model;
using CodeLm.Model.Native;
using CodeLm.Server;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using StreamJsonRpc;

var inv = CultureInfo.InvariantCulture;
string? checkpoint = Arg("--checkpoint");
var requests = int.Parse(Arg("--requests") ?? "200", inv);
var repeats = int.Parse(Arg("--repeats") ?? "3", inv);
var precision = Arg("--precision") ?? "auto";
var root = FindRepoRoot();
var sources = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
    .Where(p => !p.Contains("/bin/") && !p.Contains("/obj/")).Order(StringComparer.Ordinal).ToList();
var temp = Directory.CreateTempSubdirectory("codelm-bench-server-").FullName;
try
{
    var randomInit = checkpoint == null;
    checkpoint ??= MakeSmallCheckpoint(temp, sources);
    var tokenizer = CodeTokenizer.Load(Path.Combine(checkpoint, "tokenizer"));
    var cases = MakeCases(sources, requests);
    var codelm = Path.Combine(root, "Cli", "bin", "Release", "net10.0", "codelm.dll");
    if (!File.Exists(codelm)) throw new FileNotFoundException($"build first: dotnet build Cli -c Release ({codelm} is missing)");
    Console.Error.WriteLine($"checkpoint {checkpoint} ({(randomInit ? "small preset, random init" : "given")}), {cases.Count} cases, {repeats} repeats, --precision {precision}");

    var runs = new List<Dictionary<string, Stats>>();
    for (var rep = 0; rep < repeats; rep++)
    {
        runs.Add(await RunOnce(codelm, checkpoint, cases, tokenizer, precision));
        foreach (var (k, s) in runs[^1]) Console.Error.WriteLine($"run {rep + 1} {k,-8} p50 {s.P50,7:F1} p95 {s.P95,7:F1} max {s.Max,7:F1} ms  tokens shown {s.MeanTokens:F1}");
    }
    PrintMarkdown(runs, randomInit, cases.Count, precision);
}
finally
{
    try { Directory.Delete(temp, true); } catch (IOException) { }
}
return 0;

string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CodeLm.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("run inside the repository");
}

static string MakeSmallCheckpoint(string temp, List<string> sources)
{
    TorchNativeLoader.EnsureLoaded();
    var tokDir = Path.Combine(temp, "tokenizer");
    BpeTrainer.Train(sources.Select(File.ReadAllText), new BpeTrainerOptions(VocabSize: 4096, Threads: 1)).Save(tokDir);
    TorchSharp.torch.manual_seed(1);
    // The preset's 32,768-row embedding and head are kept (the extra rows past the tokenizer are never sampled), so the
    // compute per token is the preset's.
    using var model = new Gpt(GptConfig.Preset("small"));
    var dir = Path.Combine(temp, "small");
    Checkpoint.Save(dir, model, tokDir);
    return dir;
}

// Each case: a C# file cut at a line end after >= 1,500 characters: the 1,500 characters before the cursor and up to
// 400 after it.
static List<(string Text, int Offset)> MakeCases(List<string> sources, int n)
{
    var cases = new List<(string, int)>();
    foreach (var path in sources)
    {
        var text = File.ReadAllText(path).Replace("\r\n", "\n");
        for (var at = 1500; at < text.Length - 50 && cases.Count < n; at += 900)
        {
            var lineEnd = text.IndexOf('\n', at);
            if (lineEnd < 0) break;
            var start = lineEnd - 1500;
            var end = Math.Min(text.Length, lineEnd + 400);
            cases.Add((text[start..end], 1500));
        }
        if (cases.Count >= n) break;
    }
    return cases;
}

static async Task<Dictionary<string, Stats>> RunOnce(string codelm, string checkpoint, List<(string Text, int Offset)> cases, CodeTokenizer tokenizer, string precision)
{
    var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in new[] { codelm, "serve", "--checkpoint", checkpoint, "--log-file", Path.Combine(Path.GetTempPath(), "codelm-bench-server.log"), "--verbose", "--precision", precision }) psi.ArgumentList.Add(a);
    using var proc = Process.Start(psi)!;
    proc.ErrorDataReceived += (_, _) => { };
    proc.BeginErrorReadLine();
    var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = LspServerHost.JsonOptions() };
    using var rpc = new JsonRpc(new HeaderDelimitedMessageHandler(proc.StandardInput.BaseStream, proc.StandardOutput.BaseStream, formatter));
    rpc.StartListening();
    await rpc.InvokeWithParameterObjectAsync<JsonElement>("initialize", new { processId = Environment.ProcessId, capabilities = new { },
        initializationOptions = new { codelm = new { maxNewTokens = 48, temperature = 0, contextBudget = 1024 } } });
    await rpc.NotifyWithParameterObjectAsync("initialized", new { });

    async Task<(double Ms, string? Text)> Inline(string uri, string text, int offset)
    {
        var line = text[..offset].Count(c => c == '\n');
        var character = offset - (text.LastIndexOf('\n', offset - 1) + 1);
        var clock = Stopwatch.StartNew();
        var r = await rpc.InvokeWithParameterObjectAsync<JsonElement>("textDocument/inlineCompletion",
            new { textDocument = new { uri }, position = new { line, character }, context = new { triggerKind = 2 } });
        var ms = clock.Elapsed.TotalMilliseconds;
        var items = r.GetProperty("items");
        return (ms, items.GetArrayLength() == 0 ? null : items[0].GetProperty("insertText").GetString());
    }

    async Task<double> Anchor()
    {
        var clock = Stopwatch.StartNew();
        try { await rpc.InvokeWithParameterObjectAsync<JsonElement>("codelm/anchor", new { }); }
        catch (RemoteMethodNotFoundException) { }
        return clock.Elapsed.TotalMilliseconds;
    }

    for (var i = 0; i < cases.Count; i++)
        await rpc.NotifyWithParameterObjectAsync("textDocument/didOpen", new { textDocument = new { uri = $"file:///bench/{i}.cs", languageId = "csharp", version = 1, text = cases[i].Text } });
    for (var i = 0; i < 20; i++) await Anchor(); // JIT the request path

    var anchor = new List<double>();
    var cold = new List<(double, string?)>();
    var cached = new List<(double, string?)>();
    for (var i = 0; i < cases.Count; i++) { anchor.Add(await Anchor()); cold.Add(await Inline($"file:///bench/{i}.cs", cases[i].Text, cases[i].Offset)); }
    for (var i = 0; i < cases.Count; i++) cached.Add(await Inline($"file:///bench/{i}.cs", cases[i].Text, cases[i].Offset));

    // Typing: one document, one more character before the cursor each request (the client's newest text).
    var typing = new List<(double, string?)>();
    var doc = cases[0].Text;
    var offset = cases[0].Offset - 40;
    var typed = doc[offset..cases[0].Offset];
    doc = doc.Remove(offset, 40);
    await rpc.NotifyWithParameterObjectAsync("textDocument/didOpen", new { textDocument = new { uri = "file:///bench/typing.cs", languageId = "csharp", version = 1, text = doc } });
    for (var k = 0; k < typed.Length; k++)
    {
        var pos = Pos(doc, offset);
        doc = doc.Insert(offset, typed[k].ToString());
        offset++;
        await rpc.NotifyWithParameterObjectAsync("textDocument/didChange", new { textDocument = new { uri = "file:///bench/typing.cs", version = k + 2 },
            contentChanges = new[] { new { range = new { start = pos, end = pos }, text = typed[k].ToString() } } });
        typing.Add(await Inline("file:///bench/typing.cs", doc, offset));
    }

    await rpc.InvokeWithParameterObjectAsync<JsonElement>("shutdown", null);
    await rpc.NotifyWithParameterObjectAsync("exit", null);
    await proc.WaitForExitAsync();
    return new()
    {
        ["anchor"] = Stats.Of(anchor.Select(a => (a, (string?)null)).ToList(), tokenizer),
        ["cold"] = Stats.Of(cold, tokenizer),
        ["cached"] = Stats.Of(cached, tokenizer),
        ["typing"] = Stats.Of(typing, tokenizer),
    };
}

static object Pos(string text, int offset)
{
    var line = text[..offset].Count(c => c == '\n');
    return new { line, character = offset - (text.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1) };
}

void PrintMarkdown(List<Dictionary<string, Stats>> runs, bool randomInit, int n, string precision)
{
    Console.WriteLine($"| run | requests | p50 ms | p95 ms | max ms | p50 / anchor p50 | tokens shown (mean) |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
    foreach (var kind in new[] { "anchor", "cold", "cached", "typing" })
    {
        double Med(Func<Stats, double> f) => Median(runs.Select(r => f(r[kind])).ToList());
        string Spread(Func<Stats, double> f) { var v = runs.Select(r => f(r[kind])).ToList(); return $"{Med(f).ToString("F1", inv)} ({v.Min().ToString("F1", inv)}–{v.Max().ToString("F1", inv)})"; }
        var ratio = runs.Select(r => r[kind].P50 / r["anchor"].P50).ToList();
        Console.WriteLine($"| {kind} | {runs[0][kind].Count} | {Spread(s => s.P50)} | {Spread(s => s.P95)} | {Spread(s => s.Max)} | {Median(ratio).ToString("F1", inv)}× | {Med(s => s.MeanTokens).ToString("F1", inv)} |");
    }
    Console.WriteLine();
    Console.WriteLine($"Median over {runs.Count} runs (min–max in brackets); {n} cases; {(randomInit ? "`small` preset with random weights" : "trained checkpoint")}; `--precision {precision}`.");
}

static double Median(List<double> v) { var s = v.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

sealed record Stats(int Count, double P50, double P95, double Max, double MeanTokens)
{
    public static Stats Of(List<(double Ms, string? Text)> xs, CodeTokenizer tokenizer)
    {
        var ms = xs.Select(x => x.Ms).Order().ToList();
        double P(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
        return new Stats(ms.Count, P(0.5), P(0.95), ms[^1], xs.Average(x => x.Text == null ? 0 : tokenizer.Encode(x.Text).Length));
    }
}
