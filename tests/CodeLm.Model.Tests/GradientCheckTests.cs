using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

/// <summary>Autograd through attention (SDPA) and the MLP against central finite differences, in float64.</summary>
public class GradientCheckTests
{
    private static readonly GptConfig Config = new(VocabSize: 11, ContextLength: 8, Layers: 1, Heads: 2, Embedding: 8);

    [Fact]
    public void Attention_gradients_match_finite_differences()
    {
        Torch.Init();
        manual_seed(5);
        using var attn = new CausalSelfAttention(Config);
        attn.to(ScalarType.Float64);
        Check(x => attn.forward(x), attn.parameters().ToArray());
    }

    [Fact]
    public void Mlp_gradients_match_finite_differences()
    {
        Torch.Init();
        manual_seed(6);
        using var mlp = new Mlp(Config);
        mlp.to(ScalarType.Float64);
        Check(x => mlp.forward(x), mlp.parameters().ToArray());
    }

    private static void Check(Func<Tensor, Tensor> f, Tensor[] parameters)
    {
        using var x = randn([2, 5, Config.Embedding], ScalarType.Float64).requires_grad_();
        using var probe = randn([2, 5, Config.Embedding], ScalarType.Float64); // a random linear functional of the output
        Tensor Objective() => (f(x) * probe).sum();

        using (var loss = Objective()) loss.backward();
        var rng = new Random(1);
        foreach (var t in parameters.Append(x))
        {
            var analytic = t.grad!.clone().flatten();
            using var flat = t.detach().view(-1); // shares storage: nudging it nudges the tensor
            for (int k = 0; k < 12; k++)
            {
                long i = rng.NextInt64(flat.numel());
                const double eps = 1e-6;
                double orig = flat[i].item<double>();
                double plus, minus;
                using (no_grad())
                {
                    flat[i] = orig + eps; plus = Objective().item<double>();
                    flat[i] = orig - eps; minus = Objective().item<double>();
                    flat[i] = orig;
                }
                double numeric = (plus - minus) / (2 * eps);
                double got = analytic[i].item<double>();
                Assert.True(Math.Abs(numeric - got) <= 1e-6 + 1e-5 * Math.Abs(numeric), $"d/d[{i}]: autograd {got}, finite difference {numeric}");
            }
        }
    }
}
