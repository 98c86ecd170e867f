namespace CodeLm.Model.Training;

/// <summary>A conservative estimate of training memory, checked before the first step.</summary>
public static class MemoryBudget
{
    /// <summary>Bytes for weights, gradients, AdamW moments (+ a bf16 working copy) and one micro-batch of activations.</summary>
    /// <param name="trainable">Parameters with gradients and AdamW moments (LoRA: its adapters); all of them by default.</param>
    public static long Estimate(GptConfig c, int batch, int seq, bool bf16, long? trainable = null)
    {
        long n = c.ParameterCount(), t = trainable ?? n;
        long state = n * 4 + t * (4 + 8) + (bf16 ? n * 4 : 0);
        int act = bf16 ? 2 : 4;
        // Per layer and token: ~34·E activations saved for backward plus the attention scores (H·T), as in Korthikanti et al.
        long perLayer = (long)batch * seq * (34L * c.Embedding + 5L * c.Heads * seq) * act / 2;
        long logits = (long)batch * seq * c.VocabSize * 4 * 3;
        return state + c.Layers * perLayer + logits;
    }

    /// <summary>Available physical memory on this machine (MemAvailable), or null when unknown.</summary>
    public static long? AvailableHostBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        var gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return gc > 0 ? gc : null;
    }

    public static void Check(GptConfig c, int batch, int seq, bool bf16, long? available, long? trainable = null)
    {
        if (available == null) return;
        long need = Estimate(c, batch, seq, bf16, trainable);
        if (need > available)
            throw new MemoryBudgetException(
                $"This run needs about {need / (1 << 20):N0} MiB ({c.ParameterCount() / 1e6:F1}M parameters, batch {batch} x {seq} tokens) " +
                $"but only {available / (1 << 20):N0} MiB is available.");
    }
}

/// <summary>A run estimated not to fit in memory; refused before it would be killed by the kernel halfway.</summary>
public sealed class MemoryBudgetException(string estimate)
    : InvalidOperationException(estimate + " Use a smaller batch with more gradient accumulation, a shorter sequence, or a smaller model.")
{
    /// <summary>The estimate without advice, for front ends that word the fix in their own terms.</summary>
    public string Estimate { get; } = estimate;
}
