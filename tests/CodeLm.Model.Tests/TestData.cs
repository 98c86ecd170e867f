using CodeLm.Common;
using CodeLm.Model.Training;
using CodeLm.Tokenizer.Shards;
using CodeLm.Tokenizer.Training;
using CodeLm.Tokenizer;

namespace CodeLm.Model.Tests;

/// <summary>Real inputs for trainer tests: a BPE tokenizer trained on generated code, and Megatron shards made with it.</summary>
public static class TestData
{
    public static IReadOnlyList<string> Documents(int count, int seed)
    {
        var rng = new Random(seed);
        string[] names = ["parse", "load", "render", "merge", "count", "split", "scan", "emit"];
        string[] types = ["items", "lines", "tokens", "rows", "nodes"];
        var docs = new List<string>();
        for (int d = 0; d < count; d++)
        {
            var sb = new System.Text.StringBuilder(LanguageTag.Prefix("Python"));
            int fns = 2 + rng.Next(4);
            for (int f = 0; f < fns; f++)
            {
                string n = names[rng.Next(names.Length)], t = types[rng.Next(types.Length)];
                sb.Append($"def {n}_{t}({t}, limit={rng.Next(100)}):\n    result = []\n    for x in {t}:\n");
                sb.Append($"        if len(result) >= limit:\n            break\n        result.append({n}(x))\n    return result\n\n");
            }
            docs.Add(sb.ToString());
        }
        return docs;
    }

    public static CodeTokenizer Tokenizer(string dir)
    {
        var trained = BpeTrainer.Train(Documents(40, 99), new BpeTrainerOptions(VocabSize: 400, Threads: 1));
        trained.Save(dir);
        return CodeTokenizer.Load(dir);
    }

    /// <summary>A complete shard directory (train 60 docs, validation 12 docs) with its own tokenizer copy.</summary>
    public static string Shards(string root, int seed = 1)
    {
        var shardDir = Path.Combine(root, "shards");
        var tok = Tokenizer(Path.Combine(shardDir, ShardSet.TokenizerFolder));
        return Shards(shardDir, tok, Documents(60, seed), Documents(12, seed + 1000));
    }

    /// <summary>
    /// Shards of <paramref name="train"/> and <paramref name="validation"/> (Python files, without their tag lines: the
    /// framing adds them for CodeLm's tokenizers) framed as <c>codelm data tokenize</c> frames them for <paramref name="tok"/>,
    /// whose files must be in the set's tokenizer/ folder.
    /// </summary>
    public static string Shards(string shardDir, CodeTokenizer tok, IReadOnlyList<string> train, IReadOnlyList<string> validation)
    {
        var framing = DocumentFraming.For(tok, tagLines: tok.Kind == TokenizerKind.CodeLm);
        var splits = new Dictionary<string, SplitStats>();
        foreach (var (split, docs) in new[] { (ShardManifest.Train, train), (ShardManifest.Validation, validation) })
        {
            using var writer = new IndexedDatasetWriter(ShardSet.Prefix(shardDir, split), tok.VocabSize);
            var ids = new List<int>();
            foreach (var d in docs)
            {
                ids.Clear();
                framing.Encode(tok, "Python", Untagged(d), ids);
                writer.Add(ids.ToArray());
            }
            splits[split] = new SplitStats(writer.Count, writer.TotalTokens, new Dictionary<string, long> { ["Python"] = writer.TotalTokens },
                new Dictionary<string, long> { ["Python"] = docs.Count });
            writer.Commit();
        }
        new ShardManifest(ShardManifest.CurrentFormatVersion, tok.Hash, "test", tok.VocabSize,
            IndexedDatasetFormat.TokenTypeName(IndexedDatasetFormat.DTypeFor(tok.VocabSize)), splits, framing)
            .Save(Path.Combine(shardDir, ShardManifest.FileName));
        return shardDir;
    }

    private static string Untagged(string document) =>
        LanguageTag.ReadLine(document) is { } tag ? document[tag.Length..] : document;

    public static GptConfig TinyConfig(int vocab) => new(vocab, ContextLength: 32, Layers: 2, Heads: 2, Embedding: 32);

    public static TrainOptions Options(string outDir) => new()
    {
        OutDir = outDir, Device = "cpu", BatchSize = 4, GradAccumulation = 2, MaxSteps = 8, WarmupSteps = 2,
        LearningRate = 3e-3, EvalInterval = 4, EvalBatches = 2, PeakFlops = 1e10, Seed = 7, KeepLast = 2,
    };
}
