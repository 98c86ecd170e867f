using CodeLm.Model;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Shards;
using static TorchSharp.torch;

namespace CodeLm.Bench.Finetune;

/// <summary>Mean next-token cross-entropy (nats) over every target of a split, and the same per document language.</summary>
public sealed record LossResult(double Loss, long Targets, int Windows, IReadOnlyDictionary<string, (double Loss, long Targets)> ByLanguage);

/// <summary>
/// Scores a checkpoint (a run's best/, a step checkpoint, or a LoRA adapter, which loads as base + merged adapter) on a
/// shard split. The trainer's own validation reads 20 shuffled windows with FIM; to compare models this reads ALL of the
/// split instead, without FIM and without shuffling: the stored documents (framing and tag lines as `data tokenize`
/// wrote them, i.e. exactly the token stream the trainer sees) concatenated in index order and cut into non-overlapping
/// windows of the model's context. Every target token is scored exactly once, the last window is a short one rather
/// than wrapping around, so every model sees the identical set of (context, target) pairs.
/// </summary>
public static class HeldOutLoss
{
    public static LossResult Evaluate(string checkpoint, string shardDir, string split, int batch = 8)
    {
        var (model, config, tokenizer) = Checkpoint.Load(Checkpoint.Resolve(checkpoint), CPU);
        using var _ = model;
        // Refuses shards made with another tokenizer (same check `codelm train` makes), so a loss is never computed on ids
        // the model reads differently.
        ShardSet.Load(shardDir, tokenizer);
        var (stream, language) = Stream(shardDir, split, tokenizer);
        int t = config.ContextLength;
        int windows = (int)((stream.Length - 1 + t - 1) / t);
        double total = 0;
        var sums = new Dictionary<string, (double Sum, long N)>();
        using var noGrad = no_grad();
        for (int w0 = 0; w0 < windows; w0 += batch)
        {
            using var scope = NewDisposeScope();
            // Full windows batch together; the one short tail window runs alone (no padding, so no mask to get wrong).
            var group = Enumerable.Range(w0, Math.Min(batch, windows - w0)).ToList();
            foreach (var chunk in group.GroupBy(w => Math.Min(t, stream.Length - 1 - (long)w * t)))
            {
                int len = (int)chunk.Key;
                var ws = chunk.ToList();
                var x = new long[ws.Count * len];
                var y = new long[ws.Count * len];
                for (int i = 0; i < ws.Count; i++)
                    for (int j = 0; j < len; j++)
                    {
                        long p = (long)ws[i] * t + j;
                        x[i * len + j] = stream[p];
                        y[i * len + j] = stream[p + 1];
                    }
                var logits = model.forward(tensor(x).view(ws.Count, len));
                var nll = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]).to(ScalarType.Float32), tensor(y),
                    reduction: nn.Reduction.None);
                var values = nll.data<float>().ToArray();
                for (int i = 0; i < values.Length; i++)
                {
                    total += values[i];
                    // A target belongs to the document it is in (an end-of-text closes its own document).
                    long target = (long)ws[i / len] * t + i % len + 1;
                    var lang = language(target);
                    sums[lang] = sums.TryGetValue(lang, out var s) ? (s.Sum + values[i], s.N + 1) : (values[i], 1);
                }
            }
        }
        long targets = stream.Length - 1;
        return new LossResult(total / targets, targets, windows, sums.ToDictionary(kv => kv.Key, kv => (kv.Value.Sum / kv.Value.N, kv.Value.N)));
    }

    /// <summary>
    /// The split's documents as stored, concatenated, and a lookup from a stream position to its document's language
    /// (read back from the tag line `data tokenize` put first; "?" where the shards have no tag lines).
    /// </summary>
    public static (int[] Stream, Func<long, string> Language) Stream(string shardDir, string split, CodeTokenizer tokenizer)
    {
        using var reader = IndexedDatasetReader.Open(ShardSet.Prefix(shardDir, split));
        var starts = new long[reader.Count + 1];
        var langs = new string[reader.Count];
        var all = new List<int>(checked((int)reader.TotalTokens));
        for (int d = 0; d < reader.Count; d++)
        {
            var doc = reader.GetDocument(d);
            starts[d] = all.Count;
            langs[d] = LanguageOf(tokenizer, doc);
            all.AddRange(doc);
        }
        starts[^1] = all.Count;
        string Lookup(long position)
        {
            int i = Array.BinarySearch(starts, position);
            if (i < 0) i = ~i - 1;
            return langs[Math.Min(i, langs.Length - 1)];
        }
        return (all.ToArray(), Lookup);
    }

    private static string LanguageOf(CodeTokenizer tokenizer, int[] doc)
    {
        var head = tokenizer.Decode(doc.AsSpan(0, Math.Min(24, doc.Length)));
        int nl = head.IndexOf('\n');
        var line = nl >= 0 ? head[..nl] : head;
        int at = line.IndexOf("language: ", StringComparison.Ordinal);
        return at >= 0 ? line[(at + "language: ".Length)..].Trim().TrimEnd('-', '>', '*', '/').Trim() : "?";
    }
}
