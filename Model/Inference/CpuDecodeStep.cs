using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Inference;

/// <summary>
/// One decoding step of one sequence, as managed loops over the int8 weights: the same maths as <see cref="Gpt.forward(Tensor, KvCache?, bool)"/>
/// for a single new token, without its ~50 libtorch dispatches per layer. A step reads every weight once and does little
/// else, so at a 0.5B model's size those dispatches were a fifth of the step (docs/benchmarks.md, "Open models against
/// llama.cpp"). Keys and values go into the same <see cref="KvCache"/> tensors the libtorch path fills, so prompts (many
/// positions, arithmetic-bound) stay on libtorch and steps come here, in any order.
/// </summary>
public sealed class CpuDecodeStep
{
    private readonly GptConfig _c;
    private readonly Tensor _embedding;            // [V, E] float32
    private readonly Tensor? _positions;           // [T, E] float32, learned positions only
    private readonly RotaryEmbedding? _rotary;
    private readonly Layer[] _layers;
    private readonly Norm _final;
    private readonly Int8Weights _head;
    private readonly float[] _x, _h, _qkv, _attention, _inner, _gate, _scores;

    private sealed record Norm(float[] Weight, float[]? Bias, float Epsilon, bool Rms);
    private sealed record Layer(Norm Norm1, Int8Weights Qkv, float[]? QkvBias, Int8Weights Out, float[]? OutBias,
        Norm Norm2, Int8Weights Up, float[]? UpBias, Int8Weights Down, float[]? DownBias);

    private CpuDecodeStep(Gpt model, Layer[] layers, Norm final, Int8Weights head)
    {
        _c = model.Config;
        _embedding = model.TokenEmbedding;
        _positions = model.PositionEmbedding;
        _rotary = model.Rotary;
        (_layers, _final, _head) = (layers, final, head);
        _x = new float[_c.Embedding];
        _h = new float[_c.Embedding];
        _qkv = new float[_c.QkvWidth];
        _attention = new float[_c.Heads * _c.HeadDim];
        _inner = new float[_c.Mlp == MlpKind.SwiGlu ? 2 * _c.Hidden : _c.Hidden];
        _gate = new float[_c.Mlp == MlpKind.SwiGlu ? _c.Hidden : 0];
        _scores = new float[_c.ContextLength];
    }

    /// <summary>The step for a model whose linear layers and head all have int8 copies; null where one lacks them.</summary>
    internal static CpuDecodeStep? For(Gpt model)
    {
        var layers = new List<Layer>();
        foreach (var block in model.Blocks)
        {
            if (Int8Of(block.Attention.c_attn) is not { } qkv || Int8Of(block.Attention.c_proj) is not { } o
                || Int8Of(block.Mlp.c_fc) is not { } up || Int8Of(block.Mlp.c_proj) is not { } down) return null;
            layers.Add(new Layer(NormOf(block.Norm1), qkv, BiasOf(block.Attention.c_attn), o, BiasOf(block.Attention.c_proj),
                NormOf(block.Norm2), up, BiasOf(block.Mlp.c_fc), down, BiasOf(block.Mlp.c_proj)));
        }
        // Tables are read as spans, which stop at 2 GiB: a larger embedding decodes on libtorch.
        if (model.TokenEmbedding.numel() * sizeof(float) > int.MaxValue) return null;
        return Int8Of(model.lm_head) is { } head ? new CpuDecodeStep(model, [.. layers], NormOf(model.FinalNorm), head) : null;
    }

    /// <summary>Whether this step can take <paramref name="idx"/>: one token of one sequence, with a float32 CPU cache.</summary>
    internal bool Accepts(Tensor idx, KvCache cache) =>
        idx.shape[0] == 1 && cache.Batch == 1 && cache.Padding is null && idx.device_type == DeviceType.CPU && cache.KeysOf(0) is { } k
        && k.dtype == ScalarType.Float32 && k.device_type == DeviceType.CPU && k.is_contiguous() && !is_grad_enabled();

    /// <summary>Logits [1, 1, V] for the token in <paramref name="idx"/> [1, 1] at the cache's next position; advances the cache.</summary>
    internal Tensor Forward(Tensor idx, KvCache cache)
    {
        int position = cache.Length;
        Embed(idx.item<long>(), position);
        for (int l = 0; l < _layers.Length; l++) Block(_layers[l], cache, l, position);
        cache.Advance(1);
        Normalize(_final, _x, _h);
        var logits = empty([1, 1, _c.VocabSize], ScalarType.Float32);
        _head.MatVec(_h, MemoryMarshal.Cast<byte, float>(logits.bytes));
        return logits;
    }

    private void Embed(long token, int position)
    {
        Row(_embedding, token).CopyTo(_x);
        if (_positions is { } table) TensorPrimitives.Add(_x, Row(table, position), _x);
    }

    private void Block(Layer layer, KvCache cache, int l, int position)
    {
        Normalize(layer.Norm1, _x, _h);
        Linear(layer.Qkv, layer.QkvBias, _h, _qkv);
        Attend(cache, l, position);
        Linear(layer.Out, layer.OutBias, _attention, _h);
        TensorPrimitives.Add(_x, _h, _x);

        Normalize(layer.Norm2, _x, _h);
        Linear(layer.Up, layer.UpBias, _h, _inner);
        var activated = Activate();
        Linear(layer.Down, layer.DownBias, activated, _h);
        TensorPrimitives.Add(_x, _h, _x);
    }

    private void Attend(KvCache cache, int l, int position)
    {
        int heads = _c.Heads, kvHeads = _c.KvHeadCount, d = _c.HeadDim, group = heads / kvHeads;
        var q = _qkv.AsSpan(0, heads * d);
        var k = _qkv.AsSpan(heads * d, kvHeads * d);
        var v = _qkv.AsSpan((heads + kvHeads) * d, kvHeads * d);
        if (_rotary != null) Rotate(q, k, position);
        var keys = MemoryMarshal.Cast<byte, float>(cache.KeysOf(l).bytes);
        var values = MemoryMarshal.Cast<byte, float>(cache.ValuesOf(l).bytes);
        int capacity = cache.Capacity;
        for (int g = 0; g < kvHeads; g++)
        {
            k.Slice(g * d, d).CopyTo(keys.Slice((g * capacity + position) * d, d));
            v.Slice(g * d, d).CopyTo(values.Slice((g * capacity + position) * d, d));
        }
        float scale = 1f / MathF.Sqrt(d);
        var scores = _scores.AsSpan(0, position + 1);
        for (int head = 0; head < heads; head++)
        {
            int g = head / group;
            var qh = q.Slice(head * d, d);
            for (int j = 0; j <= position; j++) scores[j] = TensorPrimitives.Dot(qh, keys.Slice((g * capacity + j) * d, d)) * scale;
            TensorPrimitives.SoftMax(scores, scores);
            var output = _attention.AsSpan(head * d, d);
            output.Clear();
            for (int j = 0; j <= position; j++) TensorPrimitives.MultiplyAdd(values.Slice((g * capacity + j) * d, d), scores[j], output, output);
        }
    }

    // Hugging Face's rotate_half layout: coordinates i and i + D/2 of a head form each rotated pair.
    private void Rotate(Span<float> q, Span<float> k, int position)
    {
        var (cosTable, sinTable) = _rotary!.CpuTables(position + 1);
        int d = _c.HeadDim, half = d / 2;
        var cos = MemoryMarshal.Cast<byte, float>(cosTable.bytes).Slice(position * d, d);
        var sin = MemoryMarshal.Cast<byte, float>(sinTable.bytes).Slice(position * d, d); // sin negated on the first half
        Span<float> rolled = stackalloc float[d];
        RotateHeads(q, cos, sin, rolled, half);
        RotateHeads(k, cos, sin, rolled, half);
    }

    private static void RotateHeads(Span<float> heads, ReadOnlySpan<float> cos, ReadOnlySpan<float> signedSin, Span<float> rolled, int half)
    {
        int d = 2 * half;
        for (int start = 0; start < heads.Length; start += d)
        {
            var x = heads.Slice(start, d);
            x[half..].CopyTo(rolled);
            x[..half].CopyTo(rolled[half..]);
            TensorPrimitives.Multiply(x, cos, x);
            TensorPrimitives.MultiplyAdd(rolled, signedSin, x, x);
        }
    }

    private Span<float> Activate()
    {
        int hidden = _c.Hidden;
        var h = _inner.AsSpan();
        switch (_c.Mlp)
        {
            case MlpKind.SwiGlu:
                var gate = h[..hidden];
                var up = h[hidden..];
                // silu(g) = g · sigmoid(g)
                TensorPrimitives.Sigmoid(gate, _gate);
                TensorPrimitives.Multiply(gate, _gate, gate);
                TensorPrimitives.Multiply(gate, up, gate);
                return gate;
            case MlpKind.GeluTanh:
                foreach (ref var x in h) x = 0.5f * x * (1f + MathF.Tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
                return h;
            default:
                foreach (ref var x in h) x = 0.5f * x * (1f + Erf(x * 0.70710678f));
                return h;
        }
    }

    // Abramowitz and Stegun 7.1.26: |error| below 1.5e-7, under float32's rounding of GELU's other terms. .NET has no erf.
    private static float Erf(float x)
    {
        float t = 1f / (1f + 0.3275911f * MathF.Abs(x));
        float y = 1f - t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f)))) * MathF.Exp(-x * x);
        return x < 0 ? -y : y;
    }

    private static void Linear(Int8Weights w, float[]? bias, ReadOnlySpan<float> x, Span<float> y)
    {
        w.MatVec(x, y);
        if (bias != null) TensorPrimitives.Add(y, bias, y);
    }

    private static void Normalize(Norm n, ReadOnlySpan<float> x, Span<float> y)
    {
        int e = x.Length;
        if (n.Rms)
        {
            float inverse = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / e + n.Epsilon);
            TensorPrimitives.Multiply(x, inverse, y);
        }
        else
        {
            float mean = TensorPrimitives.Sum(x) / e;
            TensorPrimitives.Subtract(x, mean, y);
            float inverse = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(y) / e + n.Epsilon);
            TensorPrimitives.Multiply(y, inverse, y);
        }
        TensorPrimitives.Multiply(y, n.Weight, y);
        if (n.Bias != null) TensorPrimitives.Add(y, n.Bias, y);
    }

    private static ReadOnlySpan<float> Row(Tensor table, long row)
    {
        int width = (int)table.shape[1];
        return MemoryMarshal.Cast<byte, float>(table.bytes).Slice(checked((int)(row * width)), width);
    }

    private static Int8Weights? Int8Of(nn.Module<Tensor, Tensor> layer) => (layer as InferenceLinear)?.Int8;

    private static float[]? BiasOf(nn.Module<Tensor, Tensor> layer) => (layer as InferenceLinear)?.Bias is { } b ? Floats(b) : null;

    private static Norm NormOf(nn.Module<Tensor, Tensor> norm) => norm switch
    {
        RmsNorm rms => new Norm(Floats(rms.Weight), null, (float)rms.Epsilon, Rms: true),
        LayerNorm ln => new Norm(Floats(ln.weight!), ln.bias is { } b ? Floats(b) : null, (float)ln.eps, Rms: false),
        _ => throw new NotSupportedException($"No managed decoding for the norm {norm.GetType().Name}."),
    };

    private static float[] Floats(Tensor t)
    {
        using var f = t.detach().to(ScalarType.Float32).cpu().contiguous();
        return MemoryMarshal.Cast<byte, float>(f.bytes).ToArray();
    }
}
