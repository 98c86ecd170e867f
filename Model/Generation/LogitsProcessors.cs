using static TorchSharp.torch;

namespace CodeLm.Model.Generation;

/// <summary>
/// The steps between raw logits [B, V] and a sampling distribution, applied in this order (as in HF transformers):
/// repetition penalty, temperature, top-k, top-p. Each returns a new tensor; inputs are never modified.
/// </summary>
public static class LogitsProcessors
{
    /// <summary>
    /// CTRL-style penalty on every token already in the sequence (prompt included): positive logits are divided by
    /// <paramref name="penalty"/>, negative ones multiplied, so a penalty above 1 always makes a seen token less likely.
    /// <paramref name="seen"/> is a bool mask [B, V].
    /// </summary>
    public static Tensor RepetitionPenalty(Tensor logits, Tensor seen, float penalty)
    {
        using var penalized = where(logits > 0, logits / penalty, logits * penalty);
        return where(seen, penalized, logits);
    }

    public static Tensor Temperature(Tensor logits, float temperature) => logits / temperature;

    /// <summary>The k largest logits per row, sorted descending, with their vocabulary ids.</summary>
    public static (Tensor Values, Tensor Indices) TopK(Tensor logits, int k)
    {
        var (values, indices) = logits.topk(Math.Min(k, (int)logits.shape[^1]), dim: -1, largest: true, sorted: true);
        return (values, indices);
    }

    /// <summary>All logits per row sorted descending, with their vocabulary ids (the input top-p needs when top-k is off).</summary>
    public static (Tensor Values, Tensor Indices) SortDescending(Tensor logits)
    {
        var (values, indices) = logits.sort(dim: -1, descending: true);
        return (values, indices);
    }

    /// <summary>
    /// Nucleus filter on logits sorted descending per row: keeps the smallest head whose probability reaches
    /// <paramref name="p"/> (always at least the top token) and sets the rest to -inf.
    /// </summary>
    public static Tensor TopP(Tensor sortedLogits, float p)
    {
        if (p >= 1) return sortedLogits.alias();
        using var probs = sortedLogits.softmax(-1);
        using var cumulative = probs.cumsum(-1);
        using var before = cumulative - probs;   // mass strictly ahead of each token
        using var drop = before > p;
        return sortedLogits.masked_fill(drop, float.NegativeInfinity);
    }
}
