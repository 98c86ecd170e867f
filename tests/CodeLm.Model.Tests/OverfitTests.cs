using CodeLm.Model.Training;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

public class OverfitTests
{
    [Fact]
    public void Tiny_model_overfits_one_batch_to_near_zero_loss()
    {
        Torch.Init();
        manual_seed(3);
        var config = new GptConfig(VocabSize: 64, ContextLength: 16, Layers: 2, Heads: 2, Embedding: 64);
        using var model = new Gpt(config);
        using var opt = new AdamW(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), weightDecay: 0);
        using var x = randint(0, 64, [4, 16], dtype: ScalarType.Int64);
        using var y = randint(0, 64, [4, 16], dtype: ScalarType.Int64);
        double first = 0, last = 0;
        for (int step = 0; step < 150; step++)
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            var loss = model.Loss(x, y);
            loss.backward();
            opt.Update(model.parameters().Select(p => p.grad!).ToList(), 1e-2);
            last = loss.item<float>();
            if (step == 0) first = last;
        }
        Assert.InRange(first, 3.5, 5.0); // ~ln(64) at init
        Assert.True(last < 0.05, $"loss after 150 steps: {last}");
    }

    [Fact]
    public void Adamw_matches_the_reference_update_and_decays_only_matrices()
    {
        Torch.Init();
        using var w = tensor(new double[] { 1.0, -2.0, 0.5, 3.0 }).view(2, 2);
        using var b = tensor(new double[] { 0.5, -0.5 });
        using var opt = new AdamW([("w", w), ("b", b)], weightDecay: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8);
        Assert.Equal(["w"], opt.DecayedNames);
        using var gw = tensor(new double[] { 0.1, 0.2, -0.3, 0.4 }).view(2, 2);
        using var gb = tensor(new double[] { 1.0, -1.0 });
        opt.Update([gw, gb], lr: 0.01);
        opt.Update([gw, gb], lr: 0.01);
        // Hand-computed torch.optim.AdamW: step 1 and 2 with constant grads move each weight by lr per step (m/sqrt(v) = sign(g)),
        // and decoupled decay multiplies matrices by (1 - lr*wd) first.
        double w0 = 1.0;
        for (int t = 0; t < 2; t++) w0 = w0 * (1 - 0.01 * 0.1) - 0.01 * Math.Sign(0.1) / (1 + 1e-8 / 0.1);
        Assert.Equal(w0, w[0, 0].item<double>(), 6);
        Assert.Equal(0.5 - 0.02, b[0].item<double>(), 6);
    }

    [Fact]
    public void Schedule_warms_up_linearly_then_follows_a_cosine_to_the_floor()
    {
        var s = new LrSchedule(MaxLr: 1.0, MinLr: 0.1, WarmupSteps: 10, DecaySteps: 110);
        Assert.Equal(0.1, s.At(0), 9);
        Assert.Equal(1.0, s.At(9), 9);
        Assert.Equal(1.0, s.At(10), 9);
        Assert.Equal(0.55, s.At(60), 9);
        Assert.Equal(0.1, s.At(110), 9);
        Assert.Equal(0.1, s.At(500), 9);
    }
}
