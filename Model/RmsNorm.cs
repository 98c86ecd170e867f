using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>Llama's RMSNorm: <c>x / sqrt(mean(x²) + eps) · weight</c>, computed in float32 whatever the input type.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RmsNorm(long width, double eps) : base("rms_norm")
    {
        weight = new Parameter(ones(width));
        _eps = eps;
        RegisterComponents();
    }

    internal Parameter Weight => weight;
    internal double Epsilon => _eps;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var f = x.to(ScalarType.Float32);
        var normed = f * (f.pow(2).mean([-1], keepdim: true) + _eps).rsqrt();
        return (normed.to(x.dtype) * weight).MoveToOuterDisposeScope();
    }

    /// <summary>The norm a config asks for, as one module type for the blocks.</summary>
    public static nn.Module<Tensor, Tensor> For(GptConfig c) => c.Norm == NormKind.RmsNorm
        ? new RmsNorm(c.Embedding, c.LayerNormEpsilon)
        : nn.LayerNorm(c.Embedding, c.LayerNormEpsilon, elementwise_affine: true, bias: c.NormBias);
}
