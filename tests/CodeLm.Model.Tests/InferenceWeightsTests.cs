using CodeLm.Model.Inference;
using CodeLm.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

/// <summary>Int8 and bfloat16 inference copies of a real model's weights, against its float32 computation.</summary>
public class InferenceWeightsTests
{
    [Theory]
    [InlineData(1152, 384)] // `small`'s attention input: tiles, on AVX-512 where the CPU has it (else AVX2)
    [InlineData(384, 1536)] // `small`'s MLP output
    [InlineData(12, 32)]    // two tiles wide, three tiles tall
    [InlineData(37, 64)]    // a row count that is not a multiple of 4: tiles, then the last row row-major
    [InlineData(13, 24)]    // a width of 8s but not 16s: untiled, the scalar path throughout
    [InlineData(37, 50)]    // a width of neither: the same
    public void Int8_matvec_stays_within_the_rounding_bound_of_each_row(int rows, int columns)
    {
        Torch.Init();
        manual_seed(rows * 1000 + columns);
        using var weight = randn(rows, columns) * 0.05f;
        using var input = randn(columns);
        var q = Int8Weights.Quantize(weight);
        Assert.Equal(rows, q.Out);
        Assert.Equal(columns, q.In);
        Assert.Equal((long)rows * columns + 4L * rows, q.SizeInBytes);
        Assert.Equal(columns % 16 == 0 && (System.Runtime.Intrinsics.X86.Avx512F.IsSupported || System.Runtime.Intrinsics.X86.Avx2.IsSupported), q.Tiled);

        var w = weight.data<float>().ToArray();
        var x = input.data<float>().ToArray();
        var y = new float[rows];
        q.MatVec(x, y);
        double errorSquares = 0, normSquares = 0;
        for (int r = 0; r < rows; r++)
        {
            double exact = 0, absX = 0, max = 0;
            for (int c = 0; c < columns; c++)
            {
                exact += (double)w[r * columns + c] * x[c];
                absX += Math.Abs(x[c]);
                max = Math.Max(max, Math.Abs(w[r * columns + c]));
            }
            // Each weight moves by at most half a step (max|w| / 127 / 2); float32 sums add a little on top.
            var bound = max / 127 / 2 * absX * 1.01 + 1e-5;
            Assert.True(Math.Abs(y[r] - exact) <= bound, $"row {r}: {y[r]} vs {exact}, bound {bound}");
            errorSquares += (y[r] - exact) * (y[r] - exact);
            normSquares += exact * exact;
        }
        Assert.InRange(Math.Sqrt(errorSquares / normSquares), 1e-6, 0.02); // quantized (not exact), and close
    }

    [Fact]
    public void Int8_forward_keeps_leading_dimensions_and_rejects_input_it_cannot_take()
    {
        Torch.Init();
        manual_seed(3);
        using var weight = randn(20, 32);
        var q = Int8Weights.Quantize(weight);
        using var x = randn(2, 3, 32);
        using var y = q.Forward(x);
        Assert.Equal([2L, 3, 20], y.shape);
        var row = new float[20];
        q.MatVec(x[1, 2].data<float>().ToArray(), row);
        Assert.Equal(row, y[1, 2].data<float>().ToArray());
        using var wrongWidth = randn(1, 1, 31);
        Assert.Throws<ArgumentException>(() => q.Forward(wrongWidth));
        using var wrongType = randn(1, 1, 32).to(ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => q.Forward(wrongType));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Prepared_model_decodes_close_to_float32_and_names_its_precision(bool int8Steps, bool bf16Prompts)
    {
        Torch.Init();
        manual_seed(11);
        var config = new GptConfig(VocabSize: 300, ContextLength: 64, Layers: 2, Heads: 2, Embedding: 64);
        using var model = new Gpt(config);
        model.eval();
        using var _ = inference_mode();
        using var tokens = randint(0, config.VocabSize, [1, 40], dtype: ScalarType.Int64);
        using var reference = model.forward(tokens); // float32, every position

        Assert.Equal("float32", CpuInference.WeightsOf(model).ToString());
        CpuInference.Prepare(model, new InferenceWeights(int8Steps ? StepWeights.Int8 : StepWeights.Float32, bf16Prompts ? PromptWeights.BFloat16 : PromptWeights.Float32));
        Assert.Equal($"{(int8Steps ? "int8" : "float32")} steps, {(bf16Prompts ? "bfloat16" : "float32")} prompts", CpuInference.WeightsOf(model).ToString());

        // A 16-token prompt (bfloat16 when asked), then one token per step (int8 when asked), as generation runs.
        using var cache = new KvCache(config, 1, 40, CPU);
        var worst = 0.0;
        for (int t = 16; t <= 40; t++)
        {
            using var scope = NewDisposeScope();
            var logits = t == 16 ? model.forward(tokens[.., ..16], cache, lastOnly: true) : model.forward(tokens[.., (t - 1)..t], cache, lastOnly: true);
            var expected = reference[0, t - 1];
            var relative = (logits[0, 0] - expected).norm().item<float>() / expected.norm().item<float>();
            worst = Math.Max(worst, relative);
        }
        Assert.InRange(worst, 1e-7, 0.03); // changed by the rounding, and by little
    }

    [Fact]
    public void A_prepared_model_keeps_its_parameter_names_and_checkpoint_and_float32_again_is_exact()
    {
        Torch.Init();
        manual_seed(12);
        using var dir = new TempDir();
        var config = new GptConfig(VocabSize: 300, ContextLength: 32, Layers: 2, Heads: 2, Embedding: 64);
        using var model = new Gpt(config);
        model.eval();
        using var _ = inference_mode();
        using var tokens = randint(0, config.VocabSize, [1, 12], dtype: ScalarType.Int64);
        using var reference = model.forward(tokens);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Checkpoint.SaveWeights(dir.File("before.safetensors"), model);

        CpuInference.Prepare(model, new InferenceWeights(StepWeights.Int8, PromptWeights.BFloat16));
        Assert.Equal(names, model.named_parameters().Select(p => p.name).ToList());
        Assert.Empty(model.named_buffers());
        Checkpoint.SaveWeights(dir.File("after.safetensors"), model);
        Assert.Equal(File.ReadAllBytes(dir.File("before.safetensors")), File.ReadAllBytes(dir.File("after.safetensors")));

        CpuInference.Prepare(model, InferenceWeights.Float32);
        Assert.Equal(InferenceWeights.Float32, CpuInference.WeightsOf(model));
        using var again = model.forward(tokens);
        Assert.True(again.equal(reference).all().item<bool>());
    }

    [Fact]
    public void Only_float32_cpu_models_take_inference_copies()
    {
        Torch.Init();
        using var model = new Gpt(new GptConfig(VocabSize: 50, ContextLength: 16, Layers: 1, Heads: 1, Embedding: 16));
        model.to(ScalarType.BFloat16);
        var e = Assert.Throws<InvalidOperationException>(() => CpuInference.Prepare(model, new InferenceWeights(StepWeights.Int8, PromptWeights.Float32)));
        Assert.Contains("float32", e.Message);
    }
}
