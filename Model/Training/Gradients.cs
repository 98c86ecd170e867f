using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Training;

/// <summary>
/// One step's gradients as the optimizer takes them: fp32 (cast from the bf16 working copy when there is one) with
/// their global norm. The tensors it makes live until it is disposed, and no autograd graph is recorded meanwhile.
/// </summary>
internal sealed class Gradients : IDisposable
{
    private readonly DisposeScope _scope;
    private readonly IDisposable _noGrad;

    public Gradients(IReadOnlyList<Parameter> parameters)
    {
        _scope = NewDisposeScope();
        _noGrad = no_grad();
        Fp32 = parameters.Select(p => p.grad!).Select(g => g.dtype == ScalarType.Float32 ? g : g.to(ScalarType.Float32)).ToList();
        Norm = stack(Fp32.Select(g => g.norm()).ToArray()).norm().item<float>();
    }

    public IReadOnlyList<Tensor> Fp32 { get; }

    public double Norm { get; }

    /// <summary>Scales the gradients down so their global norm is at most <paramref name="maxNorm"/> (0 leaves them).</summary>
    public void ClipTo(double maxNorm)
    {
        if (maxNorm <= 0) return;
        double coef = maxNorm / (Norm + 1e-6);
        if (coef < 1) foreach (var g in Fp32) g.mul_(coef);
    }

    public void Dispose()
    {
        _noGrad.Dispose();
        _scope.Dispose();
    }
}
