using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>Position-wise feed-forward: Linear(E→4E), exact (erf) GELU, Linear(4E→E); no biases.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly Linear c_proj;

    public Mlp(GptConfig config) : base("mlp")
    {
        c_fc = nn.Linear(config.Embedding, config.Hidden, hasBias: false);
        c_proj = nn.Linear(config.Hidden, config.Embedding, hasBias: false);
        RegisterComponents();
    }

    internal Linear ResidualProjection => c_proj;

    public override Tensor forward(Tensor x) => c_proj.forward(nn.functional.gelu(c_fc.forward(x)));
}
