using static TorchSharp.torch;

namespace CodeLm.Model.Generation;

/// <summary>Turns one step's logits [B, V] into B token ids on the host, by argmax (greedy) or inverse-CDF sampling.</summary>
public static class TokenSampler
{
    /// <summary>
    /// <paramref name="seen"/> (bool [B, V]) is required only when a repetition penalty is set. <paramref name="uniforms"/>
    /// holds one draw in (0, 1) per row; row r's token depends only on row r's logits and draw.
    /// </summary>
    public static long[] Sample(Tensor logits, Tensor? seen, SamplingOptions options, ReadOnlySpan<double> uniforms)
    {
        using var scope = NewDisposeScope();
        var x = logits.dtype == ScalarType.Float32 ? logits : logits.to(ScalarType.Float32);
        if (options.RepetitionPenalty != 1)
        {
            if (seen is null) throw new ArgumentException("A repetition penalty needs the mask of seen tokens.", nameof(seen));
            x = LogitsProcessors.RepetitionPenalty(x, seen, options.RepetitionPenalty);
        }
        if (options.IsGreedy) return ToHost(x.argmax(-1));

        if (uniforms.Length != x.shape[0]) throw new ArgumentException($"Need one uniform draw per row ({x.shape[0]}), got {uniforms.Length}.");
        x = LogitsProcessors.Temperature(x, options.Temperature);
        long vocab = x.shape[^1];
        Tensor? ids = null;
        if (options.TopK > 0 && options.TopK < vocab) (x, ids) = LogitsProcessors.TopK(x, options.TopK);
        else if (options.TopP < 1) (x, ids) = LogitsProcessors.SortDescending(x);
        if (options.TopP < 1) x = LogitsProcessors.TopP(x, options.TopP);

        // Inverse CDF: the first candidate whose cumulative probability reaches u·total.
        var cdf = x.softmax(-1).cumsum(-1);
        var u = tensor(uniforms.ToArray(), dtype: ScalarType.Float32, device: x.device).view(-1, 1) * cdf[.., ^1..];
        var pick = searchsorted(cdf, u).clamp_max(x.shape[^1] - 1);
        return ToHost(ids is null ? pick : ids.gather(1, pick));
    }

    private static long[] ToHost(Tensor tokens) => tokens.reshape(-1).to(ScalarType.Int64).cpu().data<long>().ToArray();
}
