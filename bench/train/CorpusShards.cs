using System.Diagnostics;
using CodeLm.Common;
using CodeLm.Tokenizer.Shards;
using CodeLm.Tokenizer.Training;
using CodeLm.Tokenizer;

namespace CodeLm.Bench.Train;

/// <summary>Benchmark data: source files of the shared corpus repos, a BPE tokenizer trained on them, and shards (split by repo).</summary>
public static class CorpusShards
{
    private static readonly Dictionary<string, string> Languages = new(StringComparer.OrdinalIgnoreCase)
    {
        [".cs"] = "C#", [".go"] = "Go", [".js"] = "JavaScript", [".ts"] = "TypeScript", [".py"] = "Python", [".rs"] = "Rust",
        [".java"] = "Java", [".cc"] = "C++", [".cpp"] = "C++", [".h"] = "C++", [".hpp"] = "C++", [".c"] = "C",
    };
    private static readonly HashSet<string> ValidationRepos = ["cobra", "MediatR"];

    public static string Prepare(string corpusDir, string outDir, int vocab)
    {
        var shardDir = Path.Combine(outDir, "shards");
        if (File.Exists(Path.Combine(shardDir, ShardManifest.FileName))) return shardDir;
        var train = new List<string>();
        var validation = new List<string>();
        foreach (var bare in Directory.GetDirectories(corpusDir, "*.git").Order())
        {
            var name = Path.GetFileNameWithoutExtension(bare);
            var checkout = Path.Combine(outDir, "repos", name);
            if (!Directory.Exists(checkout)) Git("clone", "-q", "--depth", "1", "file://" + Path.GetFullPath(bare), checkout);
            foreach (var file in Directory.EnumerateFiles(checkout, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (file.Contains("/.git/") || !Languages.TryGetValue(Path.GetExtension(file), out var lang)) continue;
                var info = new FileInfo(file);
                if (info.Length == 0 || info.Length > 200_000) continue;
                var doc = LanguageTag.Prefix(lang) + File.ReadAllText(file);
                (ValidationRepos.Contains(name) ? validation : train).Add(doc);
            }
        }
        Console.Error.WriteLine($"corpus: {train.Count} train / {validation.Count} validation files; training a {vocab}-token BPE...");
        var tokDir = Path.Combine(shardDir, ShardSet.TokenizerFolder);
        var sw = Stopwatch.StartNew();
        BpeTrainer.Train(train, new BpeTrainerOptions(VocabSize: vocab, Threads: 2)).Save(tokDir);
        Console.Error.WriteLine($"tokenizer trained in {sw.Elapsed.TotalSeconds:F0}s");
        var tok = CodeTokenizer.Load(tokDir);
        var splits = new Dictionary<string, SplitStats>();
        foreach (var (split, docs) in new[] { (ShardManifest.Train, train), (ShardManifest.Validation, validation) })
        {
            using var writer = new IndexedDatasetWriter(ShardSet.Prefix(shardDir, split), tok.VocabSize);
            long tokens = 0;
            foreach (var d in docs) { var ids = tok.Encode(d); writer.Add(ids); tokens += ids.Length; }
            writer.Commit();
            splits[split] = new SplitStats(docs.Count, tokens, new Dictionary<string, long>(), new Dictionary<string, long>());
            Console.Error.WriteLine($"{split}: {docs.Count} documents, {tokens:N0} tokens");
        }
        new ShardManifest(ShardManifest.CurrentFormatVersion, tok.Hash, "bench-shared-corpus", tok.VocabSize,
            IndexedDatasetFormat.DTypeFor(tok.VocabSize) == IndexedDatasetFormat.UInt16Code ? "uint16" : "int32", splits)
            .Save(Path.Combine(shardDir, ShardManifest.FileName));
        return shardDir;
    }

    private static void Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {err}");
    }
}
