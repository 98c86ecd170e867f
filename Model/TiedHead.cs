using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>The output head tied to the token embedding, as in GPT-2: <c>logits = x · wteᵀ</c>.</summary>
public sealed class TiedHead : nn.Module<Tensor, Tensor>
{
    private readonly Embedding wte;

    public TiedHead(Embedding wte) : base("lm_head")
    {
        this.wte = wte;
    }

    // The weight is wte's: registering it here as well would save it twice, under a second name.
    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor x) => nn.functional.linear(x, wte.weight!);
}
