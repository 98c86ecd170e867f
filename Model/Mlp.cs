using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>Position-wise feed-forward: Linear(E→4E), exact (erf) GELU, Linear(4E→E); no biases.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_fc;
    private readonly Linear c_proj;
    private InferenceWeights? _fcFast, _projFast;

    public Mlp(GptConfig config) : base("mlp")
    {
        c_fc = nn.Linear(config.Embedding, config.Hidden, hasBias: false);
        c_proj = nn.Linear(config.Hidden, config.Embedding, hasBias: false);
        RegisterComponents();
    }

    internal Linear ResidualProjection => c_proj;

    internal InferenceWeights[] PrepareInference(bool int8Steps, bool bf16Prompts)
    {
        _fcFast = InferenceWeights.Of(c_fc, int8Steps, bf16Prompts);
        _projFast = InferenceWeights.Of(c_proj, int8Steps, bf16Prompts);
        return [_fcFast, _projFast];
    }

    public override Tensor forward(Tensor x) =>
        InferenceWeights.Apply(c_proj, _projFast, nn.functional.gelu(InferenceWeights.Apply(c_fc, _fcFast, x)));
}
