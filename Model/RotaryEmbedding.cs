using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Rotary positions in the layout Hugging Face's Llama uses: a head's first and second halves are the two coordinates of
/// each rotated pair (<c>rotate_half</c>), not interleaved pairs. Angles are computed in float32 as transformers does.
/// The cos and sin tables are built once per device and length and shared by every layer: a decoding step then costs
/// four tensor operations per rotation instead of fifteen.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Tensor _inverseFrequency; // [D/2], on the CPU
    private readonly double _scale;
    private readonly int _halfWidth;
    private Tensor? _cos, _signedSin; // [positions, D]; sin negated on the first half, so rotate_half(x)·sin = roll(x)·signedSin

    public RotaryEmbedding(GptConfig c)
    {
        int d = c.HeadDim;
        _halfWidth = d / 2;
        using var exponents = arange(0, d, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / d;
        _inverseFrequency = pow(c.RopeTheta, exponents).reciprocal().DetachFromDisposeScope();
        _scale = c.RopeScale;
    }

    /// <summary>Rotates queries or keys [B, H, T, D] that sit at positions start..start+T-1.</summary>
    public Tensor Apply(Tensor x, int start)
    {
        int t = (int)x.shape[2];
        Ensure(start + t, x.device, x.dtype);
        using var cos = _cos!.narrow(0, start, t);
        using var sin = _signedSin!.narrow(0, start, t);
        using var rolled = x.roll(_halfWidth, -1);
        using var a = x * cos;
        using var b = rolled * sin;
        return a + b;
    }

    /// <summary>Rotates one new query or key per row [B, H, 1, D], row i at position <paramref name="positions"/>[i] (rows of different lengths).</summary>
    public Tensor Apply(Tensor x, Tensor positions)
    {
        long b = x.shape[0];
        Ensure((int)positions.max().item<long>() + 1, x.device, x.dtype);
        using var cos = _cos!.index_select(0, positions).view(b, 1, 1, -1);
        using var sin = _signedSin!.index_select(0, positions).view(b, 1, 1, -1);
        using var rolled = x.roll(_halfWidth, -1);
        using var a = x * cos;
        using var c = rolled * sin;
        return a + c;
    }

    /// <summary>The float32 CPU tables [positions or more, D] (cos, and sin negated on the first half), for managed decoding.</summary>
    internal (Tensor Cos, Tensor SignedSin) CpuTables(int positions)
    {
        Ensure(positions, CPU, ScalarType.Float32);
        return (_cos!, _signedSin!);
    }

    private void Ensure(int positions, Device device, ScalarType dtype)
    {
        bool sameDevice = _cos is not null && _cos.device_type == device.type && _cos.device_index == device.index;
        if (sameDevice && _cos!.shape[0] >= positions && _cos.dtype == dtype) return;
        int grown = _cos is not null && _cos.shape[0] < positions ? 2 * (int)_cos.shape[0] : 0;
        int length = Math.Max(positions, Math.Max(256, grown));
        using var scope = NewDisposeScope();
        var angles = outer(arange(length, dtype: ScalarType.Int64).to(ScalarType.Float32) / _scale, _inverseFrequency);
        var emb = cat([angles, angles], -1);
        var sign = cat([-ones(_halfWidth), ones(_halfWidth)]);
        var cos = emb.cos().to(dtype).to(device);
        var sin = (emb.sin() * sign).to(dtype).to(device);
        _cos?.Dispose();
        _signedSin?.Dispose();
        _cos = cos.DetachFromDisposeScope();
        _signedSin = sin.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _inverseFrequency.Dispose();
        _cos?.Dispose();
        _signedSin?.Dispose();
    }
}
