using CodeLm.Common;
using CodeLm.Tokenizer;
using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Inference;

/// <summary>
/// CPU inference weights for a loaded model. Decoding one token reads every weight once, so on a CPU the step is bound
/// by memory traffic: int8 copies are a quarter of the bytes. <see cref="Prepare"/> swaps an <see cref="InferenceLinear"/>
/// in for every linear layer and the tied head; the layer classes are untouched, training never sees the swap, and the
/// float32 weights keep their names, so checkpoints do not change.
/// </summary>
public static class CpuInference
{
    /// <summary>
    /// The weights for <paramref name="requested"/> on <paramref name="device"/>: a GPU, and <see cref="InferencePrecision.Float32"/>,
    /// keep float32; <see cref="InferencePrecision.Auto"/> on the CPU takes int8 steps where a vector kernel runs (the scalar
    /// fallback would be slower than libtorch's float32) and bfloat16 prompts where they measure at least 1.5x faster here.
    /// </summary>
    public static InferenceWeights Choose(InferencePrecision requested, GptConfig config, Device device)
    {
        var cpu = device.type == DeviceType.CPU;
        if (requested == InferencePrecision.Int8 && !cpu)
            throw new OptionException("Precision", $"int8 runs on the CPU only; the model would be on {device}. Use float32 or auto.");
        if (requested == InferencePrecision.Float32 || !cpu) return InferenceWeights.Float32;
        if (requested == InferencePrecision.Int8) return new(StepWeights.Int8, PromptWeights.Float32);
        var int8 = Int8Weights.IsAccelerated(config.Embedding) && Int8Weights.IsAccelerated(config.Hidden);
        var bf16 = Bf16IsFasterForPrompts(config.Embedding);
        return new(int8 ? StepWeights.Int8 : StepWeights.Float32, bf16 ? PromptWeights.BFloat16 : PromptWeights.Float32);
    }

    /// <summary>
    /// Makes <paramref name="model"/> (float32, on the CPU) compute with <paramref name="weights"/>; outputs differ from
    /// float32 by the rounding (measured in docs/benchmarks.md). Calling it again replaces the copies.
    /// </summary>
    public static void Prepare(Gpt model, InferenceWeights weights)
    {
        if (weights == InferenceWeights.Float32 && WeightsOf(model) == InferenceWeights.Float32) return; // as loaded: also any GPU model
        var w = model.TokenEmbedding;
        if (w.device_type != DeviceType.CPU || w.dtype != ScalarType.Float32)
            throw new InvalidOperationException($"CPU inference weights are for float32 models on the CPU; this one is {w.dtype} on {w.device}.");
        foreach (var block in model.Blocks)
        {
            var (attn, mlp) = (block.Attention, block.Mlp);
            attn.c_attn = Swap(attn, "c_attn", attn.c_attn, Copies(attn.c_attn, weights));
            attn.c_proj = Swap(attn, "c_proj", attn.c_proj, Copies(attn.c_proj, weights));
            mlp.c_fc = Swap(mlp, "c_fc", mlp.c_fc, Copies(mlp.c_fc, weights));
            mlp.c_proj = Swap(mlp, "c_proj", mlp.c_proj, Copies(mlp.c_proj, weights));
        }
        // Prompts read the head at their last position only, a step: float32 there, whoever owns the weight.
        var head = model.HeadWeight is { } own
            ? InferenceLinear.Of(own, null, weights with { Prompts = PromptWeights.Float32 })
            : InferenceLinear.Tied(w, weights);
        model.lm_head = Swap(model, "lm_head", model.lm_head, head);
        model.DecodeStep = weights.Steps == StepWeights.Int8 ? CpuDecodeStep.For(model) : null;
    }

    /// <summary>
    /// Loads a checkpoint or model folder (<see cref="Checkpoint.Load"/>) and prepares the weights <see cref="Choose"/> picks.
    /// With int8 steps and bf16 prompts, a bf16 model folder's linear layers load as they are stored, never as float32:
    /// nothing would read a float32 copy (docs/model.md, "Memory").
    /// </summary>
    public static (Gpt Model, GptConfig Config, CodeTokenizer Tokenizer) Load(string dir, Device device, InferencePrecision precision, Action<string>? progress = null)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Checkpoint directory '{dir}' does not exist.");
        var config = Hf.HfCheckpoint.IsHfFolder(dir) ? Hf.HfCheckpoint.ReadConfig(dir).Config : Checkpoint.LoadConfig(dir);
        return Load(dir, device, Choose(precision, config, device), progress);
    }

    internal static (Gpt Model, GptConfig Config, CodeTokenizer Tokenizer) Load(string dir, Device device, InferenceWeights weights, Action<string>? progress = null)
    {
        var lean = weights == new InferenceWeights(StepWeights.Int8, PromptWeights.BFloat16) && Hf.HfCheckpoint.IsHfFolder(dir) && Hf.HfCheckpoint.StoresBFloat16(dir);
        var loaded = Checkpoint.Load(dir, device, progress, lean ? ScalarType.BFloat16 : ScalarType.Float32);
        try
        {
            Prepare(loaded.model, weights);
            return loaded;
        }
        catch
        {
            loaded.model.Dispose();
            throw;
        }
    }

    /// <summary>What <paramref name="model"/> computes with: <see cref="InferenceWeights.Float32"/> until <see cref="Prepare"/>.</summary>
    public static InferenceWeights WeightsOf(Gpt model) =>
        model.Blocks.First().Mlp.c_fc is InferenceLinear linear ? linear.Weights : InferenceWeights.Float32;

    private static InferenceLinear Copies(nn.Module<Tensor, Tensor> layer, InferenceWeights weights) => layer switch
    {
        InferenceLinear prepared => InferenceLinear.Of(prepared.Weight, prepared.Bias, weights),
        Linear linear => InferenceLinear.Of(linear.weight!, linear.bias, weights),
        _ => throw new NotSupportedException($"Inference copies cover linear layers only, not {layer.GetType().Name}."),
    };

    private static nn.Module<Tensor, Tensor> Swap(nn.Module parent, string name, nn.Module<Tensor, Tensor> current, InferenceLinear replacement)
    {
        (current as InferenceLinear)?.ReleaseCopies();
        return ModuleSwap.Replace(parent, name, replacement);
    }

    /// <summary>
    /// Whether a bfloat16 matrix product (casts included) beats float32 on this CPU by at least 1.5x, timed on a prompt-sized
    /// product of <paramref name="width"/> features (best of 5 each). CPUs without bf16 instructions emulate it slowly.
    /// </summary>
    public static bool Bf16IsFasterForPrompts(int width)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var x = randn(1, 128, width);
        var w = randn(4 * width, width);
        var wb = w.to(ScalarType.BFloat16);
        double Best(Func<Tensor> product)
        {
            var best = double.MaxValue;
            for (var i = 0; i < 6; i++) // the first run pays for lazy initialisation and is dropped
            {
                var clock = Stopwatch.StartNew();
                using (NewDisposeScope()) product();
                if (i > 0) best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            }
            return best;
        }
        var fp32 = Best(() => nn.functional.linear(x, w));
        var bf16 = Best(() => nn.functional.linear(x.to(ScalarType.BFloat16), wb).to(ScalarType.Float32));
        return bf16 * 1.5 <= fp32;
    }
}
