// Tokenizer benchmarks (results: docs/benchmarks.md). Every figure is a ratio against an anchor measured in the same run.
//   dotnet run -c Release --project bench/tokenizer -- run [--work DIR] [--repeats 3] [--vocab 32768]
// Child mode used by `run` so each trainer's peak memory is its own process's:
//   ... -- train-ours <files.json> <vocab> <out dir>
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using Microsoft.ML.Tokenizers;

if (args.Length > 0 && args[0] == "train-ours") return TrainOurs(args[1], int.Parse(args[2]), args[3]);
if (args.Length == 0 || args[0] != "run")
{
    Console.Error.WriteLine("usage: TokenizerBench run [--work DIR] [--repeats N] [--vocab N]");
    return 2;
}
string Arg(string name, string fallback) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
var work = Path.GetFullPath(Arg("--work", Path.Combine(Path.GetTempPath(), "codelm-tokenizer-bench")));
var repeats = int.Parse(Arg("--repeats", "3"));
var vocab = int.Parse(Arg("--vocab", "32768"));
return Bench.Run(work, repeats, vocab);

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

    public static int Run(string work, int repeats, int vocab)
    {
        Directory.CreateDirectory(work);
        var files = SourceFiles(work);
        var texts = files.Select(File.ReadAllText).ToArray();
        var totalBytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        var report = new StringBuilder();
        void Line(string s) { Console.WriteLine(s); report.AppendLine(s); }
        Line($"# Tokenizer benchmark");
        Line($"");
        Line($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, node {Node("--version").Trim()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {repeats} repeats, median [min..max]");
        Line($"input: {files.Count} source files ({string.Join(" ", CodeExtensions)}) of the {Repos.Length} shared corpus repos, {totalBytes / 1e6:F1} MB UTF-8");
        Line("");

        // ---- BPE training: ours vs HF BpeTrainer, each in its own process, alternating.
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
        Line($"| HF tokenizers BpeTrainer (npm 0.23.2) | {hf[0].Vocab} | {Stat(hf.Select(x => x.Seconds))} | 1.00 | {Stat(hf.Select(x => x.PeakMb))} |");
        Line($"| CodeLm BpeTrainer | {oursHf[0].Vocab} | {Stat(oursHf.Select(x => x.Seconds))} | {Stat(oursHf.Zip(hf, (o, h) => o.Seconds / h.Seconds), "F2")} | {Stat(oursHf.Select(x => x.PeakMb))} |");
        Line($"| CodeLm BpeTrainer | {oursFull[0].Vocab} | {Stat(oursFull.Select(x => x.Seconds))} | {Stat(oursFull.Zip(hf, (o, h) => o.Seconds / h.Seconds), "F2")} | {Stat(oursFull.Select(x => x.PeakMb))} |");
        Line("");

        // ---- Encoding speed vs cl100k on the same text.
        var ours = CodeTokenizer.Load(Path.Combine(work, $"ours-{vocab}"));
        var mlBpe = BpeTokenizer.Create(new BpeOptions(Path.Combine(work, $"ours-{vocab}", "vocab.json"), Path.Combine(work, $"ours-{vocab}", "merges.txt"))
        {
            ByteLevel = true,
            PreTokenizer = new CodePreTokenizerAdapter(),
        });
        var cl100k = TiktokenTokenizer.CreateForModel("gpt-4");
        var agree = texts.Count(t => ours.Encode(t).AsSpan().SequenceEqual(mlBpe.EncodeToIds(t).ToArray()));
        var encoders = new (string Name, Func<string, int> Encode)[]
        {
            ("cl100k (ML.Tokenizers TiktokenTokenizer)", t => cl100k.EncodeToIds(t).Count),
            ($"CodeLm CodeTokenizer ({vocab})", t => ours.Encode(t).Length),
            ($"ML.Tokenizers BpeTokenizer on our files ({vocab})", t => mlBpe.EncodeToIds(t).Count),
        };
        foreach (var e in encoders) foreach (var t in texts) e.Encode(t); // warm caches and JIT
        var single = encoders.Select(_ => new List<double>()).ToArray();
        var multi = encoders.Select(_ => new List<double>()).ToArray();
        for (var r = 0; r < repeats; r++)
            for (var i = 0; i < encoders.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                foreach (var t in texts) encoders[i].Encode(t);
                single[i].Add(totalBytes / 1e6 / sw.Elapsed.TotalSeconds);
                sw.Restart();
                Parallel.ForEach(texts, t => encoders[i].Encode(t));
                multi[i].Add(totalBytes / 1e6 / sw.Elapsed.TotalSeconds);
            }
        Line("## Encoding speed (MB/s of UTF-8 input, caches warm)");
        Line("");
        Line($"| encoder | 1 thread MB/s | ratio vs cl100k | {Environment.ProcessorCount} threads MB/s | ratio vs cl100k |");
        Line("|---|---|---|---|---|");
        for (var i = 0; i < encoders.Length; i++)
            Line($"| {encoders[i].Name} | {Stat(single[i])} | {Stat(single[i].Zip(single[0], (a, b) => a / b), "F2")} | {Stat(multi[i])} | {Stat(multi[i].Zip(multi[0], (a, b) => a / b), "F2")} |");
        Line("");
        Line($"ML.Tokenizers BpeTokenizer gives our ids on {agree}/{texts.Length} files.");
        Line("");

        // ---- Compression on held-out files: ours trained on the other 90% of files.
        var heldOut = Enumerable.Range(0, files.Count).Where(i => HeldOut(files[i])).ToArray();
        var trainTexts = Enumerable.Range(0, files.Count).Where(i => !HeldOut(files[i])).Select(i => texts[i]);
        var compDir = Path.Combine(work, $"heldout-{vocab}");
        BpeTrainer.Train(trainTexts, new BpeTrainerOptions(vocab, MinFrequency: 2)).Save(compDir);
        var comp = CodeTokenizer.Load(compDir);
        var heldTexts = heldOut.Select(i => texts[i]).ToArray();
        var textsJson = Path.Combine(work, "heldout.json");
        File.WriteAllText(textsJson, JsonSerializer.Serialize(heldTexts));
        var gpt2Counts = JsonSerializer.Deserialize<long[]>(Node(Path.Combine(RepoRoot, "bench", "tokenizer", "gpt2-count.js"), textsJson))!;
        Line($"## Compression on held-out code ({heldTexts.Length} files, every file whose path hash falls in the held-out 10%; ours trained on the other 90%)");
        Line("");
        Line("| files | chars | GPT-2 50,257 chars/token | cl100k chars/token | CodeLm chars/token | CodeLm vs GPT-2 |");
        Line("|---|---|---|---|---|---|");
        foreach (var group in heldOut.Select((fi, k) => (Ext: Path.GetExtension(files[fi]), K: k)).GroupBy(x => x.Ext).OrderBy(g => g.Key).Append(null))
        {
            var ks = group?.Select(x => x.K).ToArray() ?? Enumerable.Range(0, heldTexts.Length).ToArray();
            long chars = ks.Sum(k => (long)heldTexts[k].Length);
            long g2 = ks.Sum(k => gpt2Counts[k]), cl = ks.Sum(k => (long)cl100k.EncodeToIds(heldTexts[k]).Count), us = ks.Sum(k => (long)comp.Encode(heldTexts[k]).Length);
            Line($"| {(group == null ? "**all**" : group.Key + $" ({ks.Length})")} | {chars:N0} | {chars / (double)g2:F2} | {chars / (double)cl:F2} | {chars / (double)us:F2} | {(double)g2 / us:F2}× |");
        }
        File.WriteAllText(Path.Combine(work, "report.md"), report.ToString());
        return 0;
    }

    private static bool HeldOut(string path) =>
        BitConverter.ToUInt32(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFileName(Path.GetDirectoryName(path)!) + "/" + Path.GetFileName(path)))) % 10 == 0;

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

    private static string Exec(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
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
