using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Position-wise feed-forward: Linear(E→hidden), GELU, Linear(hidden→E); or SwiGLU, where c_fc holds the gate and up
/// projections stacked (one matrix product instead of two) and the hidden layer is silu(gate) · up.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    internal nn.Module<Tensor, Tensor> c_fc;   // a Linear; inference may swap in cheaper copies (Model/Inference)
    internal nn.Module<Tensor, Tensor> c_proj; // residual projection
    private readonly MlpKind _kind;

    public Mlp(GptConfig config, ScalarType linearWeights = ScalarType.Float32) : base("mlp")
    {
        _kind = config.Mlp;
        int inner = config.Mlp == MlpKind.SwiGlu ? 2 * config.Hidden : config.Hidden;
        c_fc = nn.Linear(config.Embedding, inner, hasBias: config.MlpBias, dtype: linearWeights);
        c_proj = nn.Linear(config.Hidden, config.Embedding, hasBias: config.MlpBias, dtype: linearWeights);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = c_fc.forward(x);
        switch (_kind)
        {
            case MlpKind.SwiGlu:
                var gateUp = h.chunk(2, -1);
                return c_proj.forward(nn.functional.silu(gateUp[0]) * gateUp[1]);
            case MlpKind.GeluTanh:
                return c_proj.forward(nn.functional.gelu(h, TorchSharp.Modules.GELU.Approximate.tanh));
            default:
                return c_proj.forward(nn.functional.gelu(h));
        }
    }
}
