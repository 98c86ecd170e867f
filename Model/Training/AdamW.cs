using static TorchSharp.torch;

namespace CodeLm.Model.Training;

/// <summary>
/// AdamW (decoupled weight decay, Loshchilov &amp; Hutter), the same update as torch.optim.AdamW.
/// Weight decay applies to 2-D (and larger) parameters only: matmul weights and embeddings, not LayerNorm gains.
/// Its moments are plain named tensors, so they are saved to and restored from safetensors exactly.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly (string Name, Tensor Param, bool Decay)[] _params;
    private readonly Tensor[] _m, _v;

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    public long Step { get; private set; }

    public AdamW(IEnumerable<(string Name, Tensor Param)> parameters, double weightDecay = 0.1, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8)
    {
        _params = parameters.Select(p => (p.Name, p.Param, p.Param.dim() >= 2)).ToArray();
        _m = _params.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray();
        _v = _params.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray();
        (WeightDecay, Beta1, Beta2, Eps) = (weightDecay, beta1, beta2, eps);
    }

    /// <summary>Elements of the parameters it updates.</summary>
    public long ParameterCount => _params.Sum(p => p.Param.numel());

    public IReadOnlyList<string> DecayedNames => _params.Where(p => p.Decay).Select(p => p.Name).ToList();

    /// <summary>One update with <paramref name="grads"/> (same order and shapes as the parameters).</summary>
    public void Update(IReadOnlyList<Tensor> grads, double lr)
    {
        Step++;
        double bc1 = 1 - Math.Pow(Beta1, Step), bc2 = 1 - Math.Pow(Beta2, Step);
        double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _params.Length; i++)
        {
            var (_, p, decay) = _params[i];
            var g = grads[i];
            if (decay && WeightDecay != 0) p.mul_(1 - lr * WeightDecay);
            _m[i].lerp_(g, 1 - Beta1);
            _v[i].mul_(Beta2).addcmul_(g, g, 1 - Beta2);
            var denom = _v[i].sqrt().div_(bc2Sqrt).add_(Eps);
            p.addcdiv_(_m[i], denom, -stepSize);
        }
    }

    /// <summary>Moments as named tensors ("exp_avg.NAME", "exp_avg_sq.NAME") for optimizer.safetensors.</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateTensors() =>
        _params.SelectMany((p, i) => new[] { ("exp_avg." + p.Name, _m[i]), ("exp_avg_sq." + p.Name, _v[i]) });

    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, long step)
    {
        using var _ = no_grad();
        for (int i = 0; i < _params.Length; i++)
        {
            foreach (var (prefix, target) in new[] { ("exp_avg.", _m[i]), ("exp_avg_sq.", _v[i]) })
            {
                if (!tensors.TryGetValue(prefix + _params[i].Name, out var t) || !t.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"Optimizer state has no matching '{prefix + _params[i].Name}'; the checkpoint is from a different model.");
                target.copy_(t);
            }
        }
        Step = step;
    }

    public void Dispose()
    {
        foreach (var t in _m) t.Dispose();
        foreach (var t in _v) t.Dispose();
    }
}
