using CodeLm.Model.Inference;
using CodeLm.Tests;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

/// <summary>
/// Loading a model folder for CPU inference: a bf16 folder prepared for int8 steps and bf16 prompts keeps its linear
/// layers as stored (no float32 copy) and computes exactly what the float32 load computes with the same copies.
/// </summary>
public class InferenceLoadTests
{
    private static readonly InferenceWeights Lean = new(StepWeights.Int8, PromptWeights.BFloat16);

    [Fact]
    public void A_bfloat16_folder_loads_without_float32_linear_weights_and_decodes_the_same_tokens()
    {
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        var dir = HfTiny.WriteWithTokenizer("qwen2", tmp.File("q"), tok, "--dtype", "bf16", "--untied");

        var (lean, _, _) = CpuInference.Load(dir, CPU, Lean);
        var (full, _, _) = Checkpoint.Load(dir, CPU);
        using (lean)
        using (full)
        {
            CpuInference.Prepare(full, Lean);
            var layer = (InferenceLinear)lean.Blocks[0].Mlp.c_fc;
            Assert.Equal(ScalarType.BFloat16, layer.Weight.dtype);
            Assert.Equal(ScalarType.Float32, ((InferenceLinear)full.Blocks[0].Mlp.c_fc).Weight.dtype);
            Assert.Equal(ScalarType.Float32, lean.TokenEmbedding.dtype); // read row by row when decoding
            Assert.Equal(Lean, CpuInference.WeightsOf(lean));
            Assert.True(Bytes(lean) < 0.7 * Bytes(full), $"{Bytes(lean)} vs {Bytes(full)} bytes of parameters");

            var (a, b) = (Decode(lean), Decode(full));
            Assert.Equal(b.Tokens, a.Tokens);
            Assert.True(a.MaxDiff(b) <= 1e-6, $"logits differ by {a.MaxDiff(b)}");
        }
    }

    [Fact]
    public void A_float32_folder_or_float32_prompts_keep_float32_weights()
    {
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        var dir = HfTiny.WriteWithTokenizer("llama", tmp.File("l"), tok);
        var (model, _, _) = CpuInference.Load(dir, CPU, Lean);
        using (model) Assert.Equal(ScalarType.Float32, ((InferenceLinear)model.Blocks[0].Attention.c_attn).Weight.dtype);

        var bf16 = HfTiny.WriteWithTokenizer("llama", tmp.File("b"), tok, "--dtype", "bf16");
        var (int8Only, _, _) = CpuInference.Load(bf16, CPU, new InferenceWeights(StepWeights.Int8, PromptWeights.Float32));
        using (int8Only) Assert.Equal(ScalarType.Float32, ((InferenceLinear)int8Only.Blocks[0].Attention.c_attn).Weight.dtype);
    }

    private static long Bytes(Gpt model) => model.parameters().Sum(p => p.numel() * p.element_size());

    private sealed record Run(List<long> Tokens, List<float[]> Logits)
    {
        public double MaxDiff(Run other) => Logits.Zip(other.Logits).Max(p => p.First.Zip(p.Second).Max(v => Math.Abs(v.First - v.Second)));
    }

    // A 24-token prompt through libtorch (bf16 prompts), then 10 greedy steps (int8, the managed step).
    private static Run Decode(Gpt model)
    {
        using var _ = inference_mode();
        using var cache = new KvCache(model.Config, 1, 40, CPU);
        var run = new Run([], []);
        var input = tensor(Enumerable.Range(0, 24).Select(i => (long)((i * 37 + 5) % 200)).ToArray(), [1, 24]);
        for (int i = 0; i < 11; i++)
        {
            using var logits = model.forward(input, cache, lastOnly: true);
            input.Dispose();
            run.Logits.Add(logits.view(-1).data<float>().ToArray());
            run.Tokens.Add(logits.argmax(-1).item<long>());
            input = tensor(new[] { run.Tokens[^1] }, [1, 1]);
        }
        input.Dispose();
        return run;
    }
}
