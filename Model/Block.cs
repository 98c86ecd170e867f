using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>Pre-norm Transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
public sealed class Block : nn.Module
{
    private readonly nn.Module<Tensor, Tensor> ln_1;
    private readonly CausalSelfAttention attn;
    private readonly nn.Module<Tensor, Tensor> ln_2;
    private readonly Mlp mlp;

    public Block(GptConfig config, RotaryEmbedding? rotary = null, ScalarType linearWeights = ScalarType.Float32) : base("block")
    {
        ln_1 = RmsNorm.For(config);
        attn = new CausalSelfAttention(config, rotary, linearWeights);
        ln_2 = RmsNorm.For(config);
        mlp = new Mlp(config, linearWeights);
        RegisterComponents();
    }

    internal CausalSelfAttention Attention => attn;
    internal Mlp Mlp => mlp;
    internal nn.Module<Tensor, Tensor> Norm1 => ln_1;
    internal nn.Module<Tensor, Tensor> Norm2 => ln_2;

    public Tensor forward(Tensor x, KvCache? cache, int layer)
    {
        x = x + attn.forward(ln_1.forward(x), cache, layer);
        return x + mlp.forward(ln_2.forward(x));
    }
}
