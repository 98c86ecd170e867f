// Tokenizer benchmarks (results: docs/benchmarks.md). Every figure is a ratio against an anchor measured in the same run.
//   dotnet run -c Release --project bench/tokenizer -- run [--work DIR] [--repeats 3] [--vocab 32768] [--sections train,encode,compress]
// Child mode used by `run` so each trainer's peak memory is its own process's:
//   ... -- train-ours <files.json> <vocab> <out dir>
using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using Microsoft.ML.Tokenizers;

if (args.Length > 0 && args[0] == "train-ours") return TrainOurs(args[1], int.Parse(args[2]), args[3]);
if (args.Length == 0 || args[0] != "run")
{
    Console.Error.WriteLine("usage: TokenizerBench run [--work DIR] [--repeats N] [--vocab N] [--sections train,encode,compress]");
    return 2;
}
string Arg(string name, string fallback) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
var work = Path.GetFullPath(Arg("--work", Path.Combine(Path.GetTempPath(), "codelm-tokenizer-bench")));
var repeats = int.Parse(Arg("--repeats", "3"));
var vocab = int.Parse(Arg("--vocab", "32768"));
var sections = Arg("--sections", "train,encode,compress").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
return Bench.Run(work, repeats, vocab, sections);

static int TrainOurs(string listPath, int vocab, string outDir)
{
    var files = JsonSerializer.Deserialize<string[]>(File.ReadAllText(listPath))!;
    var sw = Stopwatch.StartNew();
    var trained = BpeTrainer.Train(files.Select(File.ReadAllText), new BpeTrainerOptions(vocab, MinFrequency: 1));
    var seconds = sw.Elapsed.TotalSeconds;
    trained.Save(outDir);
    Console.WriteLine(JsonSerializer.Serialize(new { seconds, peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, vocab = trained.Tokens.Count }));
    return 0;
}

static class Bench
{
    private static readonly string[] CodeExtensions =
        [".cs", ".go", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".cpp", ".cc", ".cxx", ".c", ".h", ".hpp", ".java", ".py", ".rs", ".kt", ".sh"];
    private static readonly string[] Repos = ["MediatR", "TorchSharp", "cobra", "express", "fmt", "gson", "requests", "ripgrep", "vscode-languageserver-node"];
    private static readonly string RepoRoot = FindRepoRoot();

    private sealed record TrainRun(double Seconds, double PeakMb, int Vocab);

    public static int Run(string work, int repeats, int vocab, IReadOnlySet<string> sections)
    {
        Directory.CreateDirectory(work);
        var files = SourceFiles(work);
        var texts = files.Select(File.ReadAllText).ToArray();
        var totalBytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        var report = new StringBuilder();
        void Line(string s) { Console.WriteLine(s); report.AppendLine(s); }
        Line($"# Tokenizer benchmark");
        Line($"");
        Line($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, node {Node("--version").Trim()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {repeats} repeats, median [min..max]; load average at start {LoadAverage()}");
        Line($"anchors: Microsoft.ML.Tokenizers {InformationalVersion(typeof(TiktokenTokenizer))}, npm tokenizers {NpmVersion("tokenizers")}, npm gpt-3-encoder {NpmVersion("gpt-3-encoder")}");
        Line($"input: {files.Count} source files ({string.Join(" ", CodeExtensions)}) of the {Repos.Length} shared corpus repos, {totalBytes / 1e6:F1} MB UTF-8");
        Line("");

        // ---- BPE training: ours vs HF BpeTrainer, each in its own process, alternating.
        if (sections.Contains("train")) TrainingTime(work, repeats, vocab, files, Line);

        // ---- Splits by path hash bucket (0-9). Encoding: ours is trained on buckets 5-9, every encoder warms its caches on
        // them, and only buckets 0-4 are timed (half the files, so the timed pass is long enough to measure).
        // Compression: trained on buckets 1-9, counted on bucket 0.
        if (sections.Contains("encode"))
        {
            var timed = Enumerable.Range(0, files.Count).Where(i => Bucket(files[i]) < 5).Select(i => texts[i]).ToArray();
            var warm = Enumerable.Range(0, files.Count).Where(i => Bucket(files[i]) >= 5).Select(i => texts[i]).ToArray();
            var encDir = Path.Combine(work, $"encode-{vocab}");
            BpeTrainer.Train(warm, new BpeTrainerOptions(vocab, MinFrequency: 2)).Save(encDir);
            EncodingSpeed(work, encDir, vocab, repeats, warm, timed, Line);
        }

        if (sections.Contains("compress"))
        {
            var heldIdx = Enumerable.Range(0, files.Count).Where(i => Bucket(files[i]) == 0).ToArray();
            var heldTexts = heldIdx.Select(i => texts[i]).ToArray();
            // The same training set and vocabulary size under each pre-tokenizer a new tokenizer can have.
            CodeTokenizer Trained(SplitRule split)
            {
                var dir = Path.Combine(work, $"heldout-{vocab}-{split.ToString().ToLowerInvariant()}");
                BpeTrainer.Train(Enumerable.Range(0, files.Count).Where(i => Bucket(files[i]) != 0).Select(i => texts[i]), new BpeTrainerOptions(vocab, MinFrequency: 2, Split: split)).Save(dir);
                return CodeTokenizer.Load(dir);
            }
            var comp = Trained(SplitRule.CodeLm);
            var qwen2 = Trained(SplitRule.Qwen2);
            var cl100k = TiktokenTokenizer.CreateForModel("gpt-4");
            var textsJson = Path.Combine(work, "heldout.json");
            File.WriteAllText(textsJson, JsonSerializer.Serialize(heldTexts));
            var gpt2Counts = JsonSerializer.Deserialize<long[]>(Node(Path.Combine(RepoRoot, "bench", "tokenizer", "gpt2-count.js"), textsJson))!;
            Line($"## Compression on held-out code ({heldTexts.Length} files, every file whose path hash falls in the held-out 10%; ours trained on the other 90%)");
            Line("");
            Line("| files | chars | GPT-2 50,257 chars/token | cl100k chars/token | CodeLm chars/token | CodeLm vs GPT-2 | CodeLm, Qwen2 split, chars/token | Qwen2 split vs CodeLm's (tokens) |");
            Line("|---|---|---|---|---|---|---|---|");
            foreach (var group in heldIdx.Select((fi, k) => (Ext: Path.GetExtension(files[fi]), K: k)).GroupBy(x => x.Ext).OrderBy(g => g.Key).Append(null))
            {
                var ks = group?.Select(x => x.K).ToArray() ?? Enumerable.Range(0, heldTexts.Length).ToArray();
                long chars = ks.Sum(k => (long)heldTexts[k].Length);
                long g2 = ks.Sum(k => gpt2Counts[k]), cl = ks.Sum(k => (long)cl100k.EncodeToIds(heldTexts[k]).Count), us = ks.Sum(k => (long)comp.Encode(heldTexts[k]).Length);
                long q = ks.Sum(k => (long)qwen2.Encode(heldTexts[k]).Length);
                Line($"| {(group == null ? "**all**" : group.Key + $" ({ks.Length})")} | {chars:N0} | {chars / (double)g2:F2} | {chars / (double)cl:F2} | {chars / (double)us:F2} | {(double)g2 / us:F2}× | {chars / (double)q:F2} | {100.0 * (q - us) / us:+0.00;-0.00}% |");
            }
            // Encoding speed of the two splits (the scanner against the regex), warm, one thread, best of 5 passes.
            var heldBytes = heldTexts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
            double Speed(CodeTokenizer t)
            {
                var best = double.MaxValue;
                for (var r = 0; r < 6; r++)
                {
                    var sw = Stopwatch.StartNew();
                    foreach (var text in heldTexts) t.Encode(text);
                    if (r > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
                }
                return heldBytes / 1e6 / best;
            }
            Line("");
            Line($"Encoding the held-out files, warm, one thread, best of 5: CodeLm split {Speed(comp):F1} MB/s, Qwen2 split {Speed(qwen2):F1} MB/s.");
        }
        File.WriteAllText(Path.Combine(work, "report.md"), report.ToString());
        return 0;
    }

    private static void TrainingTime(string work, int repeats, int vocab, List<string> files, Action<string> Line)
    {
        var list = Path.Combine(work, "files.json");
        File.WriteAllText(list, JsonSerializer.Serialize(files));
        var oursHf = new List<TrainRun>(); var oursFull = new List<TrainRun>(); var hf = new List<TrainRun>();
        for (var r = 0; r < repeats; r++)
        {
            oursHf.Add(RunTrain(Self("train-ours", list, "30000", Path.Combine(work, "ours-30000"))));
            hf.Add(RunTrain(("node", [Path.Combine(RepoRoot, "bench", "tokenizer", "hf-train.js"), Path.Combine(work, "ours-30000", "tokenizer.json"), list, Path.Combine(work, "hf-30000.json")])));
            oursFull.Add(RunTrain(Self("train-ours", list, vocab.ToString(), Path.Combine(work, $"ours-{vocab}"))));
        }
        Line("## BPE training (same files, same pre-tokenizer)");
        Line("");
        Line("| trainer | vocab | time s | time ratio vs HF | peak RSS MB |");
        Line("|---|---|---|---|---|");
        Line($"| HF tokenizers BpeTrainer (npm {NpmVersion("tokenizers")}) | {hf[0].Vocab} | {Stat(hf.Select(x => x.Seconds))} | 1.00 | {Stat(hf.Select(x => x.PeakMb))} |");
        Line($"| CodeLm BpeTrainer | {oursHf[0].Vocab} | {Stat(oursHf.Select(x => x.Seconds))} | {Stat(oursHf.Zip(hf, (o, h) => o.Seconds / h.Seconds), "F2")} | {Stat(oursHf.Select(x => x.PeakMb))} |");
        Line($"| CodeLm BpeTrainer | {oursFull[0].Vocab} | {Stat(oursFull.Select(x => x.Seconds))} | {Stat(oursFull.Zip(hf, (o, h) => o.Seconds / h.Seconds), "F2")} | {Stat(oursFull.Select(x => x.PeakMb))} |");
        Line("");
    }

    private sealed record EncodeRun(double Seconds, double CpuSeconds);

    // Every repeat builds each encoder afresh, warms it on the train split and times one pass over the held-out split, so
    // no encoder's cache has seen a timed file (a second timed pass over the same files would be a cache benchmark).
    // Encoders take turns within a repeat, the starting one rotating, so load drift hits all of them alike.
    private static void EncodingSpeed(string work, string tokDir, int vocab, int repeats, string[] warmTexts, string[] heldTexts, Action<string> Line)
    {
        var heldBytes = heldTexts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        var warmBytes = warmTexts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        var warmJson = Path.Combine(work, "encode-warm.json");
        var heldJson = Path.Combine(work, "encode-held.json");
        var hfIdsJson = Path.Combine(work, "encode-held-hf-ids.json");
        File.WriteAllText(warmJson, JsonSerializer.Serialize(warmTexts));
        File.WriteAllText(heldJson, JsonSerializer.Serialize(heldTexts));
        var tokenizerJson = Path.Combine(tokDir, "tokenizer.json");

        // In-process encoders: a factory (run outside the timing) and an encode function over the fresh instance.
        Func<string, int> Ours() { var t = CodeTokenizer.Load(tokDir); return s => t.Encode(s).Length; }
        Func<string, int> Cl100k() { var t = TiktokenTokenizer.CreateForModel("gpt-4"); return s => t.EncodeToIds(s).Count; }
        Func<string, int> MlBpe() { var t = MlBpeOnOurFiles(tokDir); return s => t.EncodeToIds(s).Count; }
        var names = new[]
        {
            $"HF tokenizers (npm {NpmVersion("tokenizers")}, Rust) on our tokenizer.json ({vocab})",
            $"cl100k (ML.Tokenizers {InformationalVersion(typeof(TiktokenTokenizer))} TiktokenTokenizer)",
            $"CodeLm CodeTokenizer ({vocab})",
            $"ML.Tokenizers BpeTokenizer on our vocab/merges ({vocab})",
        };
        var inProcess = new Func<Func<string, int>>?[] { null, Cl100k, Ours, MlBpe };
        var runs = names.Select(_ => new List<EncodeRun>()).ToArray();
        string? hfNode = null;
        var load = new List<string> { LoadAverage() };
        for (var r = 0; r < repeats; r++)
        {
            for (var k = 0; k < names.Length; k++)
            {
                var i = (r + k) % names.Length;
                if (inProcess[i] is { } factory)
                {
                    var encode = factory();
                    foreach (var t in warmTexts) encode(t);
                    // Each encoder's warm-up garbage is collected before its timed pass, not charged to the next one.
                    GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
                    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    foreach (var t in heldTexts) encode(t);
                    var seconds = sw.Elapsed.TotalSeconds;
                    runs[i].Add(new EncodeRun(seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds));
                }
                else
                {
                    // One thread for the Rust side: no rayon pool, one libuv worker, one awaited encode at a time.
                    string[] hfArgs = r == 0
                        ? [Path.Combine(RepoRoot, "bench", "tokenizer", "hf-encode-speed.js"), tokenizerJson, warmJson, heldJson, hfIdsJson]
                        : [Path.Combine(RepoRoot, "bench", "tokenizer", "hf-encode-speed.js"), tokenizerJson, warmJson, heldJson];
                    var json = Exec("node", hfArgs, new() { ["RAYON_NUM_THREADS"] = "1", ["TOKENIZERS_PARALLELISM"] = "false", ["UV_THREADPOOL_SIZE"] = "1" });
                    var d = JsonDocument.Parse(json.Trim().Split('\n')[^1]).RootElement;
                    if (d.GetProperty("bytes").GetInt64() != heldBytes) throw new InvalidOperationException("HF encoded a different number of bytes.");
                    hfNode = d.GetProperty("node").GetString();
                    runs[i].Add(new EncodeRun(d.GetProperty("seconds").GetDouble(), d.GetProperty("cpuSeconds").GetDouble()));
                }
                Console.Error.WriteLine($"  repeat {r + 1} {names[i]}: {heldBytes / 1e6 / runs[i][^1].Seconds:F2} MB/s");
            }
            load.Add(LoadAverage());
        }

        // Token ids on the held-out files: ours against HF (same tokenizer.json) and against ML.Tokenizers' BpeTokenizer.
        var ours = CodeTokenizer.Load(tokDir);
        var mlBpe = MlBpeOnOurFiles(tokDir);
        var hfIds = JsonSerializer.Deserialize<int[][]>(File.ReadAllText(hfIdsJson))!;
        var oursIds = heldTexts.Select(ours.Encode).ToArray();
        var agreeHf = Enumerable.Range(0, heldTexts.Length).Count(k => oursIds[k].AsSpan().SequenceEqual(hfIds[k]));
        var agreeMl = Enumerable.Range(0, heldTexts.Length).Count(k => oursIds[k].AsSpan().SequenceEqual(mlBpe.EncodeToIds(heldTexts[k]).ToArray()));

        Line($"## Encoding speed, one thread, held-out files (MB/s of UTF-8 input)");
        Line("");
        Line($"Split by path hash: every encoder is built afresh each repeat, warms its caches on the train half ({warmTexts.Length} files, " +
             $"{warmBytes / 1e6:F1} MB, on which our tokenizer was trained) and is timed on one pass over the held-out half ({heldTexts.Length} files, " +
             $"{heldBytes / 1e6:F2} MB) that no encoder saw before. One thread each: the in-process encoders loop file by file on one thread; " +
             $"HF runs in node {hfNode} with RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false, UV_THREADPOOL_SIZE=1, one awaited `encode` per file. " +
             $"MB per CPU-second uses process CPU time over the timed pass. Load average (1/5/15 min) before and after each repeat: {string.Join(" → ", load)}.");
        Line("");
        Line("| encoder | MB/s | ratio vs HF tokenizers | ratio vs cl100k | MB per CPU-second |");
        Line("|---|---|---|---|---|");
        for (var i = 0; i < names.Length; i++)
            Line($"| {names[i]} | {Stat(runs[i].Select(x => heldBytes / 1e6 / x.Seconds))} | {Stat(runs[i].Zip(runs[0], (a, b) => b.Seconds / a.Seconds), "F2")} " +
                 $"| {Stat(runs[i].Zip(runs[1], (a, b) => b.Seconds / a.Seconds), "F2")} | {Stat(runs[i].Select(x => heldBytes / 1e6 / x.CpuSeconds))} |");
        Line("");
        Line($"Token ids on the {heldTexts.Length} held-out files: HF tokenizers gives our ids on {agreeHf}/{heldTexts.Length} files, ML.Tokenizers BpeTokenizer on {agreeMl}/{heldTexts.Length}.");
        foreach (var k in Enumerable.Range(0, heldTexts.Length).Where(k => !oursIds[k].AsSpan().SequenceEqual(hfIds[k])).Take(5))
        {
            var at = 0;
            while (at < Math.Min(oursIds[k].Length, hfIds[k].Length) && oursIds[k][at] == hfIds[k][at]) at++;
            Line($"  differs from HF: held-out file {k}, {oursIds[k].Length} vs {hfIds[k].Length} ids, first difference at id {at}");
        }
        Line("");
    }

    private static BpeTokenizer MlBpeOnOurFiles(string tokDir) =>
        BpeTokenizer.Create(new BpeOptions(Path.Combine(tokDir, "vocab.json"), Path.Combine(tokDir, "merges.txt"))
        {
            ByteLevel = true,
            PreTokenizer = new CodePreTokenizerAdapter(),
        });

    private static string LoadAverage() => string.Join('/', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string InformationalVersion(Type t) =>
        (t.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?").Split('+')[0];

    private static string NpmVersion(string package) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot, "tests", "node-ref", "node_modules", package, "package.json"))).RootElement.GetProperty("version").GetString()!;

    private static uint Bucket(string path) =>
        BitConverter.ToUInt32(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFileName(Path.GetDirectoryName(path)!) + "/" + Path.GetFileName(path)))) % 10;

    private static List<string> SourceFiles(string work)
    {
        var files = new List<string>();
        foreach (var repo in Repos)
        {
            var dir = Path.Combine(work, "repos", repo);
            if (!Directory.Exists(dir))
                Exec("git", ["clone", "--quiet", "--depth", "1", "file://" + Path.Combine(RepoRoot, "..", "shared", "corpus", repo + ".git"), dir]);
            files.AddRange(Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/.git/") && CodeExtensions.Contains(Path.GetExtension(f)) && new FileInfo(f).Length is > 0 and < 1_000_000 && IsUtf8(f))
                .Order(StringComparer.Ordinal));
        }
        return files;
    }

    // HF's file trainer rejects a file that is not valid UTF-8, so both trainers get only those.
    private static bool IsUtf8(string path)
    {
        try { new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path)); return true; }
        catch (DecoderFallbackException) { return false; }
    }

    private static (string File, string[] Args) Self(params string[] args)
    {
        var dll = typeof(Bench).Assembly.Location;
        return ("dotnet", [dll, .. args]);
    }

    private static TrainRun RunTrain((string File, string[] Args) cmd)
    {
        var json = Exec(cmd.File, cmd.Args).Trim().Split('\n')[^1];
        var d = JsonDocument.Parse(json).RootElement;
        var run = new TrainRun(d.GetProperty("seconds").GetDouble(), d.GetProperty("peakMb").GetDouble(), d.GetProperty("vocab").GetInt32());
        Console.Error.WriteLine($"  {Path.GetFileName(cmd.Args[0])} {string.Join(' ', cmd.Args.Skip(2).Take(1))}: {run}");
        return run;
    }

    private static string Node(params string[] args) => Exec("node", args);

    private static string Exec(string file, string[] args, Dictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {err.Result}");
        return output;
    }

    private static string Stat(IEnumerable<double> values, string format = "F1")
    {
        var v = values.Order().ToArray();
        var median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        return $"{median.ToString(format)} [{v[0].ToString(format)}..{v[^1].ToString(format)}]";
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CodeLm.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("CodeLm.sln not found");
    }
}

/// <summary>Lets ML.Tokenizers' BpeTokenizer split text with CodeLm's code pre-tokenizer.</summary>
sealed class CodePreTokenizerAdapter : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        foreach (var r in CodePreTokenizer.Split(text)) yield return (r.Start.Value, r.End.Value - r.Start.Value);
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());
}
