using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>Position-wise feed-forward: Linear(E→4E), exact (erf) GELU, Linear(4E→E); no biases.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    internal nn.Module<Tensor, Tensor> c_fc;   // a Linear; inference may swap in cheaper copies (Model/Inference)
    internal nn.Module<Tensor, Tensor> c_proj; // residual projection

    public Mlp(GptConfig config) : base("mlp")
    {
        c_fc = nn.Linear(config.Embedding, config.Hidden, hasBias: false);
        c_proj = nn.Linear(config.Hidden, config.Embedding, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => c_proj.forward(nn.functional.gelu(c_fc.forward(x)));
}
