using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Rotary positions in the layout Hugging Face's Llama uses: a head's first and second halves are the two coordinates of
/// each rotated pair (<c>rotate_half</c>), not interleaved pairs. Angles are computed in float32 as transformers does.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Tensor _inverseFrequency; // [D/2], on the CPU; copied per device on use
    private readonly double _scale;
    private Tensor? _onDevice;

    public RotaryEmbedding(GptConfig c)
    {
        int d = c.HeadDim;
        using var exponents = arange(0, d, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / d;
        _inverseFrequency = pow(c.RopeTheta, exponents).reciprocal().DetachFromDisposeScope();
        _scale = c.RopeScale;
    }

    /// <summary>Rotates queries or keys [B, H, T, D] that sit at positions start..start+T-1.</summary>
    public Tensor Apply(Tensor x, int start)
    {
        using var scope = NewDisposeScope();
        var inv = Frequencies(x.device);
        var positions = arange(start, start + x.shape[2], dtype: ScalarType.Int64, device: x.device).to(ScalarType.Float32) / _scale;
        var angles = outer(positions, inv);
        var emb = cat([angles, angles], -1);
        var cos = emb.cos().to(x.dtype);
        var sin = emb.sin().to(x.dtype);
        var halves = x.chunk(2, -1);
        var rotated = cat([-halves[1], halves[0]], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }

    private Tensor Frequencies(Device device)
    {
        if (device.type == DeviceType.CPU) return _inverseFrequency;
        if (_onDevice is null || _onDevice.device != device)
        {
            _onDevice?.Dispose();
            _onDevice = _inverseFrequency.to(device).DetachFromDisposeScope();
        }
        return _onDevice;
    }

    public void Dispose()
    {
        _inverseFrequency.Dispose();
        _onDevice?.Dispose();
    }
}
