using CodeLm.Tokenizer.Shards;

namespace CodeLm.Bench.Finetune;

/// <summary>
/// The floor a model must beat to have learned anything beyond token frequencies, in the same nats as the losses.
/// Entropy: the empirical unigram distribution of the scored tokens, fitted on those very tokens (the best any
/// context-free predictor can do on them, so an optimistic anchor). CrossEntropy: a unigram fitted on a train split and
/// scored on these tokens (add-one smoothed over the vocabulary, so unseen ids cost something finite): what a context-free
/// model that never saw the split gets.
/// </summary>
public static class UnigramAnchor
{
    public static (double Entropy, double CrossEntropy) Of(string shardDir, string split, string trainShardDir, int vocabSize)
    {
        var scored = Counts(shardDir, split, vocabSize, skipFirst: true);
        var train = Counts(trainShardDir, ShardManifest.Train, vocabSize, skipFirst: false);
        double n = scored.Sum(), trainN = train.Sum() + vocabSize;
        double h = 0, ce = 0;
        for (int i = 0; i < vocabSize; i++)
        {
            if (scored[i] == 0) continue;
            double p = scored[i] / n;
            h -= p * Math.Log(p);
            ce -= p * Math.Log((train[i] + 1) / trainN);
        }
        return (h, ce);
    }

    /// <param name="skipFirst">Leave out the stream's first token, as the losses do (it is never a target).</param>
    private static long[] Counts(string shardDir, string split, int vocabSize, bool skipFirst)
    {
        var counts = new long[vocabSize];
        using var reader = IndexedDatasetReader.Open(ShardSet.Prefix(shardDir, split));
        for (int d = 0; d < reader.Count; d++)
        {
            var doc = reader.GetDocument(d);
            for (int i = d == 0 && skipFirst ? 1 : 0; i < doc.Length; i++) counts[doc[i]]++;
        }
        return counts;
    }
}
