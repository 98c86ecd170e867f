// Generation benchmarks for docs/benchmarks.md. Random-init weights (speed does not depend on them).
//   dotnet run -c Release --project bench/generation -- [--threads 1] [--repeats 5]
//   dotnet run -c Release --project bench/generation -- memory <n>          (child process: peak RSS of one n-sample request)
//   dotnet run -c Release --project bench/generation -- checkpoint <dir>    (a random-init tiny checkpoint to try `codelm sample`)
//   dotnet run -c Release --project bench/generation -- precision <dir> [--prompts 40]  (int8/bf16 inference vs float32 on a trained checkpoint)
//   dotnet run -c Release --project bench/generation -- int8-speed [--threads 1] [--repeats 5]  (the int8 matrix-vector product alone, at an open model's shapes, huge pages on and off, against a plain read)
//   dotnet run -c Release --project bench/generation -- open-model <hf-dir> [--threads 1] [--prompt 128] [--decode 64]  (an open model's load, prefill and decode)
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using static TorchSharp.torch;
using Generator = CodeLm.Model.Generation.Generator;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
int threads = Arg("--threads", 1), repeats = Arg("--repeats", 5);
TorchNativeLoader.EnsureLoaded();
set_num_threads(threads);
if (args.Length >= 1 && args[0] == "int8-speed")
{
    CodeLm.Model.Inference.Int8Weights.Threads = threads;
    Int8Speed.Run(repeats);
    return;
}
if (args.Length >= 2 && args[0] == "open-model")
{
    OpenModelBench.Run(args[1], ArgText("--gguf"), threads, Arg("--prompt", 128), Arg("--decode", 64), repeats,
        Enum.Parse<CodeLm.Model.Inference.InferencePrecision>(ArgText("--precision") ?? "Auto", ignoreCase: true));
    return;
}
if (args.Length >= 2 && args[0] == "precision")
{
    PrecisionAgreement.Run(args[1], Arg("--prompts", 40));
    return;
}
var (tokenizer, code) = Setup.TokenizerAndCode();

if (args.Length >= 2 && args[0] == "checkpoint")
{
    manual_seed(0);
    using var tiny = new Gpt(GptConfig.Preset("tiny", tokenizer.VocabSize));
    Checkpoint.Save(args[1], tiny, tokenizer.Directory);
    Console.WriteLine($"wrote random-init tiny checkpoint to {args[1]}");
    return;
}

manual_seed(0);
var config = GptConfig.Preset("small", 32768); // the preset's vocabulary; the tokenizer's ids are a prefix of it
using var model = new Gpt(config);
model.eval();
var generator = new Generator(model, tokenizer, CPU)
{
    // random weights: keep every sample going to max-new-tokens so all runs do the same work
    OnLogits = (_, _, logits) => logits[.., ..5].fill_(float.NegativeInfinity),
};
var codeIds = tokenizer.Encode(code);
var prefillText = code[..1500];

if (args.Length >= 2 && args[0] == "memory")
{
    int n = int.Parse(args[1], CultureInfo.InvariantCulture);
    long baseline = Setup.Status("VmRSS");
    var r = generator.Generate(prefillText, n, new SamplingOptions(MaxNewTokens: 64, Temperature: 0.8f, TopP: 0.95f));
    Console.WriteLine(JsonSerializer.Serialize(new { n, baseline_kib = baseline, peak_kib = Setup.Status("VmHWM"), tokens = r.Sum(c => c.Tokens) }));
    return;
}

Console.Error.WriteLine($"small preset: {model.ParameterCount() / 1e6:F1}M parameters, context {config.ContextLength}, vocab {config.VocabSize} (tokenizer {tokenizer.VocabSize}); torch threads {threads}; {repeats} repeats");
int[] prompt448 = codeIds[..448];
var greedy64 = new SamplingOptions(MaxNewTokens: 64);
var rows = new List<Dictionary<string, double>>();
var cachedLatencies = new List<double>();
for (int rep = 0; rep < repeats; rep++)
{
    var row = new Dictionary<string, double>();
    // 1. decode at a 448..511 context with the KV cache (per-token times between streamed tokens)
    var stamps = new List<double>();
    var clock = Stopwatch.StartNew();
    var cached = generator.GenerateTokens(prompt448, 1, greedy64, (_, _) => stamps.Add(clock.Elapsed.TotalMilliseconds))[0];
    var steps = stamps.Zip(stamps.Skip(1), (a, b) => b - a).ToArray();
    cachedLatencies.AddRange(steps);
    row["cached_tok_s"] = steps.Length / (steps.Sum() / 1000);
    row["cached_median_ms"] = Stats.Median(steps);
    row["cached_p95_ms"] = Stats.Percentile(steps, 0.95);
    row["first_token_ms"] = stamps[0];

    // 1b. the floor under it: the same single-token cached forwards + argmax, without the generator's bookkeeping
    var raw = RawCachedSteps(model, prompt448, cached.TokenIds, tokenizer.VocabSize);
    row["raw_step_median_ms"] = Stats.Median(raw);
    row["generator_overhead"] = row["cached_median_ms"] / row["raw_step_median_ms"];

    // 2. the same 64 greedy tokens without a cache: a full forward over the whole sequence per token
    var full = FullRecompute(model, prompt448, 64, tokenizer.VocabSize, out var fullSteps);
    row["full_tok_s"] = (fullSteps.Length - 1) / (fullSteps.Skip(1).Sum() / 1000);
    row["speedup"] = row["cached_tok_s"] / row["full_tok_s"];
    if (!full.SequenceEqual(cached.TokenIds)) throw new InvalidOperationException("cached and full-recompute greedy tokens differ");

    // 3. prefill of 1,500 characters of code (one forward that fills the cache), against one cached decode step
    var ids = tokenizer.Encode(prefillText);
    row["prefill_tokens"] = ids.Length;
    row["prefill_ms"] = Prefill(model, ids);
    row["prefill_in_decode_steps"] = row["prefill_ms"] / row["cached_median_ms"];

    // 4. n = 20 samples in one batch against n = 1, same prompt and settings (aggregate generated tokens/s)
    var sampling = new SamplingOptions(MaxNewTokens: 64, Temperature: 0.8f, TopP: 0.95f);
    row["n1_tok_s"] = Throughput(generator, prefillText, 1, sampling);
    row["n20_tok_s"] = Throughput(generator, prefillText, 20, sampling);
    row["n20_vs_n1"] = row["n20_tok_s"] / row["n1_tok_s"];
    rows.Add(row);
    Console.Error.WriteLine($"repeat {rep + 1}: " + string.Join(", ", row.Select(kv => $"{kv.Key}={kv.Value:F2}")));
}

var memory = new[] { 1, 20 }.Select(n => Setup.RunChild(threads, n)).ToArray();
Report.Print(rows, cachedLatencies, memory, config, threads, repeats);

static string? ArgText(string name)
{
    var a = Environment.GetCommandLineArgs();
    int i = Array.IndexOf(a, name);
    return i >= 0 && i + 1 < a.Length ? a[i + 1] : null;
}

static int Arg(string name, int fallback)
{
    var a = Environment.GetCommandLineArgs();
    int i = Array.IndexOf(a, name);
    return i >= 0 && i + 1 < a.Length ? int.Parse(a[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static int[] FullRecompute(Gpt model, int[] prompt, int newTokens, int vocab, out double[] stepMs)
{
    using var _ = inference_mode();
    var ids = prompt.Select(x => (long)x).ToList();
    var times = new double[newTokens];
    var output = new int[newTokens];
    for (int i = 0; i < newTokens; i++)
    {
        var sw = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var logits = model.forward(tensor(ids.ToArray()).view(1, -1), null, lastOnly: true)[0, -1];
        logits[..5].fill_(float.NegativeInfinity);
        int next = (int)logits[..vocab].argmax().item<long>();
        times[i] = sw.Elapsed.TotalMilliseconds;
        output[i] = next;
        ids.Add(next);
    }
    stepMs = times;
    return output;
}

static double[] RawCachedSteps(Gpt model, int[] prompt, IReadOnlyList<int> tokens, int vocab)
{
    using var _ = inference_mode();
    using var cache = new KvCache(model.Config, 1, prompt.Length + tokens.Count, CPU);
    using (NewDisposeScope()) model.forward(tensor(prompt.Select(x => (long)x).ToArray()).view(1, -1), cache, lastOnly: true);
    var times = new double[tokens.Count - 1];
    for (int i = 0; i < times.Length; i++)
    {
        var sw = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var logits = model.forward(tensor(new long[] { tokens[i] }).view(1, 1), cache, lastOnly: true)[0, -1];
        logits[..vocab].argmax().item<long>();
        times[i] = sw.Elapsed.TotalMilliseconds;
    }
    return times;
}

static double Prefill(Gpt model, int[] ids)
{
    using var _ = inference_mode();
    using var scope = NewDisposeScope();
    var sw = Stopwatch.StartNew();
    using var cache = new KvCache(model.Config, 1, ids.Length + 1, CPU);
    var logits = model.forward(tensor(ids.Select(x => (long)x).ToArray()).view(1, -1), cache, lastOnly: true);
    logits[0, 0, 0].item<float>();
    return sw.Elapsed.TotalMilliseconds;
}

static double Throughput(Generator generator, string prompt, int n, SamplingOptions options)
{
    var sw = Stopwatch.StartNew();
    var r = generator.Generate(prompt, n, options);
    return r.Sum(c => c.Tokens) / sw.Elapsed.TotalSeconds;
}

static class Setup
{
    /// <summary>A tokenizer trained on the shared requests + cobra repos (cached in the temp folder) and a real Python file.</summary>
    public static (CodeTokenizer, string) TokenizerAndCode()
    {
        var root = Path.Combine(Path.GetTempPath(), "codelm-bench-generation");
        var repos = new[] { "requests", "cobra" }.Select(r => Clone(root, r)).ToArray();
        var tokDir = Path.Combine(root, "tokenizer-8000");
        if (!File.Exists(Path.Combine(tokDir, TokenizerFiles.TokenizerJson)))
        {
            var docs = repos.SelectMany(d => Directory.EnumerateFiles(d, "*.*", SearchOption.AllDirectories))
                .Where(f => f.EndsWith(".py") || f.EndsWith(".go") || f.EndsWith(".md")).Order(StringComparer.Ordinal).Select(File.ReadAllText);
            BpeTrainer.Train(docs, new BpeTrainerOptions(VocabSize: 8000)).Save(tokDir + ".tmp");
            if (Directory.Exists(tokDir)) Directory.Delete(tokDir, true);
            Directory.Move(tokDir + ".tmp", tokDir);
        }
        var code = File.ReadAllText(Path.Combine(repos[0], "src", "requests", "models.py"));
        return (CodeTokenizer.Load(tokDir), code);
    }

    private static string Clone(string root, string repo)
    {
        var dir = Path.Combine(root, repo);
        if (Directory.Exists(dir)) return dir;
        var source = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/corpus", repo + ".git"));
        if (!Directory.Exists(source)) source = Path.GetFullPath(Path.Combine("..", "shared", "corpus", repo + ".git"));
        var p = Process.Start("git", ["clone", "--quiet", "--depth", "1", "file://" + source, dir]);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git clone {source} failed");
        return dir;
    }

    /// <summary>A /proc/self/status field in KiB (VmRSS now, VmHWM peak).</summary>
    public static long Status(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":")).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    public static JsonElement RunChild(int threads, int n)
    {
        var self = Environment.ProcessPath!;
        var dll = typeof(Setup).Assembly.Location;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(dll);
        foreach (var a in new[] { "memory", n.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var line = p.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
        p.WaitForExit();
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}

static class Stats
{
    public static double Median(IEnumerable<double> xs) => Percentile(xs, 0.5);

    public static double Percentile(IEnumerable<double> xs, double q)
    {
        var s = xs.Order().ToArray();
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}

static class Report
{
    public static void Print(List<Dictionary<string, double>> rows, List<double> latencies, JsonElement[] memory, GptConfig config, int threads, int repeats)
    {
        string M(string key, string fmt = "F1")
        {
            var xs = rows.Select(r => r[key]).ToArray();
            return $"{Stats.Median(xs).ToString(fmt)} ({xs.Min().ToString(fmt)}–{xs.Max().ToString(fmt)})";
        }
        Console.WriteLine($"| measure (small preset, random init, {threads} torch thread(s), {repeats} repeats) | median (min–max) |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| decode tokens/s, KV cache, context 448→511 | {M("cached_tok_s")} |");
        Console.WriteLine($"| decode tokens/s, full recompute, context 448→511 | {M("full_tok_s")} |");
        Console.WriteLine($"| **speedup cache / recompute** (same repeat) | **{M("speedup", "F2")}×** |");
        Console.WriteLine($"| per-token decode latency, median of each repeat (ms) | {M("cached_median_ms")} |");
        Console.WriteLine($"| per-token decode latency, p95 of each repeat (ms) | {M("cached_p95_ms")} |");
        Console.WriteLine($"| bare cached forward + argmax per token, median (ms) | {M("raw_step_median_ms")} |");
        Console.WriteLine($"| generator step / bare forward (bookkeeping overhead) | {M("generator_overhead", "F3")}× |");
        Console.WriteLine($"| per-token decode latency over all {latencies.Count} steps: median / p95 (ms) | {Stats.Median(latencies):F1} / {Stats.Percentile(latencies, 0.95):F1} |");
        Console.WriteLine($"| prefill, 1,500 chars of Python = {rows[0]["prefill_tokens"]:F0} tokens (ms) | {M("prefill_ms")} |");
        Console.WriteLine($"| prefill cost in decode steps (prefill ms / median step ms) | {M("prefill_in_decode_steps", "F2")} |");
        Console.WriteLine($"| time to first token at a 448-token prompt (ms) | {M("first_token_ms")} |");
        Console.WriteLine($"| generated tokens/s, n = 1 (T 0.8, top-p 0.95, 64 new) | {M("n1_tok_s")} |");
        Console.WriteLine($"| generated tokens/s, n = 20 in one batch | {M("n20_tok_s")} |");
        Console.WriteLine($"| **n = 20 batch / n = 1** (aggregate tokens/s) | **{M("n20_vs_n1", "F2")}×** |");
        foreach (var m in memory)
        {
            int n = m.GetProperty("n").GetInt32();
            double baseMiB = m.GetProperty("baseline_kib").GetInt64() / 1024.0, peakMiB = m.GetProperty("peak_kib").GetInt64() / 1024.0;
            Console.WriteLine($"| peak RSS, n = {n} (1,500-char prompt, 64 new): peak / after model load / growth (MiB) | {peakMiB:F0} / {baseMiB:F0} / {peakMiB - baseMiB:F0} |");
        }
        double kvPerToken = 2.0 * config.Layers * config.Embedding * 4 / 1024 / 1024;
        Console.WriteLine($"| KV cache size per sample per token (MiB, float32) | {kvPerToken:F3} |");
    }
}
