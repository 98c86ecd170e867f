using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Writes a Hugging Face transformers folder for a checkpoint. The architecture is exactly GPT-2's with every bias
/// zero (GPT2LMHeadModel, activation "gelu" = exact erf GELU, tied head), so <c>AutoModelForCausalLM.from_pretrained</c>
/// loads it as is. GPT-2 stores its projections as Conv1D ([in, out]), so the Linear weights are transposed.
/// </summary>
public static class HfExport
{
    public static void Export(string checkpointDir, string outDir)
    {
        Native.TorchNativeLoader.EnsureLoaded();
        checkpointDir = Checkpoint.Resolve(checkpointDir);
        var config = Checkpoint.LoadConfig(checkpointDir);
        var (tensors, _) = SafeTensors.Load(Path.Combine(checkpointDir, Checkpoint.WeightsFile));
        try
        {
            Write(config, tensors, Path.Combine(checkpointDir, Checkpoint.TokenizerDirName), outDir);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static void Write(GptConfig c, Dictionary<string, Tensor> w, string tokenizerDir, string outDir)
    {
        using var scope = NewDisposeScope();
        Tensor Get(string name) => w.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"Checkpoint weights lack '{name}'.");
        Tensor Zeros(long n) => zeros(n, ScalarType.Float32);
        var hf = new List<(string, Tensor)>
        {
            ("transformer.wte.weight", Get("wte.weight")),
            ("transformer.wpe.weight", Get("wpe.weight")),
        };
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"transformer.h.{i}.", s = $"h.{i}.";
            hf.Add((p + "ln_1.weight", Get(s + "ln_1.weight")));
            hf.Add((p + "ln_1.bias", Zeros(c.Embedding)));
            hf.Add((p + "attn.c_attn.weight", Get(s + "attn.c_attn.weight").t().contiguous()));
            hf.Add((p + "attn.c_attn.bias", Zeros(3 * c.Embedding)));
            hf.Add((p + "attn.c_proj.weight", Get(s + "attn.c_proj.weight").t().contiguous()));
            hf.Add((p + "attn.c_proj.bias", Zeros(c.Embedding)));
            hf.Add((p + "ln_2.weight", Get(s + "ln_2.weight")));
            hf.Add((p + "ln_2.bias", Zeros(c.Embedding)));
            hf.Add((p + "mlp.c_fc.weight", Get(s + "mlp.c_fc.weight").t().contiguous()));
            hf.Add((p + "mlp.c_fc.bias", Zeros(c.Hidden)));
            hf.Add((p + "mlp.c_proj.weight", Get(s + "mlp.c_proj.weight").t().contiguous()));
            hf.Add((p + "mlp.c_proj.bias", Zeros(c.Embedding)));
        }
        hf.Add(("transformer.ln_f.weight", Get("ln_f.weight")));
        hf.Add(("transformer.ln_f.bias", Zeros(c.Embedding)));

        var tokenizer = CodeTokenizer.Load(tokenizerDir);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !File.Exists(Path.Combine(outDir, "config.json")))
            throw new IOException($"Export folder '{outDir}' exists and is not an earlier export; choose an empty or new folder.");
        StagedDirectory.Write(outDir, stage =>
        {
            SafeTensors.Save(Path.Combine(stage, "model.safetensors"), hf, new Dictionary<string, string> { ["format"] = "pt" });
            var opts = new JsonSerializerOptions { WriteIndented = true };
            File.WriteAllText(Path.Combine(stage, "config.json"), new JsonObject
            {
                ["architectures"] = new JsonArray("GPT2LMHeadModel"),
                ["model_type"] = "gpt2",
                ["vocab_size"] = c.VocabSize,
                ["n_positions"] = c.ContextLength,
                ["n_ctx"] = c.ContextLength,
                ["n_embd"] = c.Embedding,
                ["n_layer"] = c.Layers,
                ["n_head"] = c.Heads,
                ["n_inner"] = c.Hidden,
                ["activation_function"] = "gelu",
                ["layer_norm_epsilon"] = c.LayerNormEpsilon,
                ["resid_pdrop"] = 0.0, ["embd_pdrop"] = 0.0, ["attn_pdrop"] = 0.0,
                ["scale_attn_weights"] = true,
                ["tie_word_embeddings"] = true,
                ["bos_token_id"] = tokenizer.EndOfText,
                ["eos_token_id"] = tokenizer.EndOfText,
                ["torch_dtype"] = "float32",
            }.ToJsonString(opts));
            File.WriteAllText(Path.Combine(stage, "generation_config.json"), new JsonObject
            {
                ["bos_token_id"] = tokenizer.EndOfText, ["eos_token_id"] = tokenizer.EndOfText,
            }.ToJsonString(opts));
            foreach (var f in new[] { TokenizerFiles.TokenizerJson, TokenizerFiles.VocabJson, TokenizerFiles.MergesTxt })
                if (File.Exists(Path.Combine(tokenizerDir, f))) File.Copy(Path.Combine(tokenizerDir, f), Path.Combine(stage, f));
            File.WriteAllText(Path.Combine(stage, "tokenizer_config.json"), new JsonObject
            {
                ["tokenizer_class"] = "PreTrainedTokenizerFast",
                ["model_max_length"] = c.ContextLength,
                ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>",
                ["additional_special_tokens"] = new JsonArray("<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>"),
            }.ToJsonString(opts));
        });
    }
}
