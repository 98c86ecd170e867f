using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Inference-only copies of one linear layer's float32 weight, chosen by input length: int8 for inputs of one position
/// per sequence (decoding steps, bound by reading the weights), bfloat16 for longer ones (prompts, bound by arithmetic,
/// where a CPU with bf16 dot products is several times faster). Without a copy for a case the float32 weight is used.
/// </summary>
public sealed class InferenceWeights : IDisposable
{
    private readonly Int8Weights? int8;
    private readonly Tensor? bf16;

    private InferenceWeights(Int8Weights? int8, Tensor? bf16)
    {
        this.int8 = int8;
        this.bf16 = bf16;
    }

    internal static InferenceWeights Of(Linear linear, bool int8Steps, bool bf16Prompts)
    {
        if (linear.bias is not null) throw new NotSupportedException("Inference copies cover bias-free linear layers only (as every CodeLm layer is).");
        var weight = linear.weight!;
        Tensor? half = null;
        if (bf16Prompts)
        {
            using var detached = weight.detach();
            half = detached.to(ScalarType.BFloat16).DetachFromDisposeScope();
        }
        return new(int8Steps ? Int8Weights.Quantize(weight) : null, half);
    }

    public void Dispose() => bf16?.Dispose();

    /// <summary><paramref name="x"/> [B, T, In] through the copy that fits its length, else through <paramref name="linear"/>.</summary>
    internal static Tensor Apply(Linear linear, InferenceWeights? w, Tensor x)
    {
        if (w == null) return linear.forward(x);
        if (x.shape[^2] == 1) return w.int8 != null ? w.int8.Forward(x) : linear.forward(x);
        if (w.bf16 is null) return linear.forward(x);
        using var half = x.to(ScalarType.BFloat16);
        using var y = nn.functional.linear(half, w.bf16);
        return y.to(ScalarType.Float32);
    }

    /// <summary>
    /// Whether a bfloat16 matrix product (casts included) beats float32 on this CPU by at least 1.5x, timed on a prompt-sized
    /// product of <paramref name="width"/> features (best of 5 each). CPUs without bf16 instructions emulate it slowly.
    /// </summary>
    public static bool Bf16IsFasterForPrompts(int width)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var x = randn(1, 128, width);
        var w = randn(4 * width, width);
        var wb = w.to(ScalarType.BFloat16);
        double Best(Func<Tensor> product)
        {
            var best = double.MaxValue;
            for (var i = 0; i < 6; i++) // the first run pays for lazy initialisation and is dropped
            {
                var clock = Stopwatch.StartNew();
                using (NewDisposeScope()) product();
                if (i > 0) best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            }
            return best;
        }
        var fp32 = Best(() => nn.functional.linear(x, w));
        var bf16 = Best(() => nn.functional.linear(x.to(ScalarType.BFloat16), wb).to(ScalarType.Float32));
        return bf16 * 1.5 <= fp32;
    }
}
