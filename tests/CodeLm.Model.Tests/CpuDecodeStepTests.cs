using CodeLm.Model.Inference;
using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

/// <summary>
/// The managed single-token step against the libtorch forward over the same int8 weights: one prompt prefilled on
/// libtorch, then steps decoded both ways into separate caches, for every norm, position and MLP kind.
/// </summary>
public class CpuDecodeStepTests
{
    public static TheoryData<string> Shapes => ["gpt", "gpt-tanh-biases", "llama-gqa-bias", "llama-mqa-scaled"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Steps_give_the_libtorch_logits_and_fill_the_same_cache(string shape)
    {
        Torch.Init();
        manual_seed(11);
        using var model = new Gpt(Config(shape));
        model.eval();
        CpuInference.Prepare(model, new InferenceWeights(StepWeights.Int8, PromptWeights.Float32));
        var step = model.DecodeStep;
        Assert.NotNull(step);

        using var _ = inference_mode();
        int[] prompt = [5, 17, 3, 99, 42, 7, 64, 1, 250, 8];
        using var managed = new KvCache(model.Config, 1, 32, CPU);
        using var reference = new KvCache(model.Config, 1, 32, CPU);
        using (var p = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Length]))
        {
            model.forward(p, managed, lastOnly: true).Dispose();
            model.forward(p, reference, lastOnly: true).Dispose();
        }
        long next = 3;
        for (int i = 0; i < 12; i++)
        {
            using var id = tensor(new[] { next }, [1, 1]);
            model.DecodeStep = step;
            using var ours = model.forward(id, managed);
            model.DecodeStep = null;
            using var theirs = model.forward(id, reference);
            Assert.Equal(theirs.shape, ours.shape);
            var scale = theirs.abs().max().item<float>();
            var diff = (ours - theirs).abs().max().item<float>();
            Assert.True(diff <= 1e-4 * Math.Max(1, scale), $"{shape}, step {i}: max |diff| {diff} at logits up to {scale}");
            next = theirs.argmax(-1).item<long>();
            Assert.Equal(next, ours.argmax(-1).item<long>());
        }
        Assert.Equal(reference.Length, managed.Length);
        for (int l = 0; l < model.Config.Layers; l++)
        {
            using var k = (managed.KeysOf(l).narrow(2, 0, managed.Length) - reference.KeysOf(l).narrow(2, 0, reference.Length)).abs().max();
            Assert.True(k.item<float>() <= 1e-4, $"{shape}: layer {l} keys differ by {k.item<float>()}");
        }
        model.DecodeStep = step;
    }

    [Fact]
    public void Batches_of_several_sequences_and_float32_weights_stay_on_libtorch()
    {
        Torch.Init();
        using var model = new Gpt(Config("llama-gqa-bias"));
        CpuInference.Prepare(model, new InferenceWeights(StepWeights.Float32, PromptWeights.Float32));
        Assert.Null(model.DecodeStep); // no int8 copies: nothing for the managed step to read
        CpuInference.Prepare(model, new InferenceWeights(StepWeights.Int8, PromptWeights.Float32));
        using var _ = inference_mode();
        using var cache = new KvCache(model.Config, 2, 8, CPU);
        using var two = tensor(new long[] { 1, 2 }, [2, 1]);
        Assert.False(model.DecodeStep!.Accepts(two, cache));
    }

    private static GptConfig Config(string shape) => shape switch
    {
        "gpt" => new GptConfig(300, 64, 2, 4, 64),
        "gpt-tanh-biases" => new GptConfig(300, 64, 2, 4, 64) { Mlp = MlpKind.GeluTanh, QkvBias = true, ProjectionBias = true, MlpBias = true, NormBias = true, TiedHead = false },
        "llama-gqa-bias" => new GptConfig(300, 64, 2, 4, 64).AsLlama() with { KvHeads = 2, QkvBias = true },
        "llama-mqa-scaled" => new GptConfig(300, 64, 2, 4, 64).AsLlama() with { KvHeads = 1, RopeScale = 2, RopeTheta = 50000, TiedHead = false },
        _ => throw new ArgumentException(shape),
    };
}
