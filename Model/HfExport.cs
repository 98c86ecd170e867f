using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Model.Hf;
using CodeLm.Tokenizer;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Writes a Hugging Face transformers folder for a checkpoint, in the family whose architecture it has
/// (<see cref="HfConfigWriter.FamilyFor"/>): CodeLm's GPT as GPT2LMHeadModel with every bias zero, Llama-style presets
/// as LlamaForCausalLM, and a model read from a Hugging Face folder as its own family again, in its own dtype, so
/// HF → CodeLm → HF gives back the same weight bytes.
/// </summary>
public static class HfExport
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    public static void Export(string checkpointDir, string outDir)
    {
        Native.TorchNativeLoader.EnsureLoaded();
        checkpointDir = Checkpoint.Resolve(checkpointDir);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !File.Exists(Path.Combine(outDir, "config.json")))
            throw new IOException($"Export folder '{outDir}' exists and is not an earlier export; choose an empty or new folder.");
        bool fromHf = HfCheckpoint.IsHfFolder(checkpointDir);
        var (family, dtype) = fromHf ? (HfCheckpoint.ReadConfig(checkpointDir).Family, StoredType(checkpointDir)) : (HfConfigWriter.FamilyFor(Checkpoint.LoadConfig(checkpointDir)), ScalarType.Float32);
        var (model, config, tokenizer) = Checkpoint.Load(checkpointDir, CPU);
        using (model)
        using (var scope = NewDisposeScope())
        {
            var weights = Weights(model, family, dtype);
            StagedDirectory.Write(outDir, stage =>
            {
                Checkpoint.CopyTokenizer(Checkpoint.TokenizerDirOf(checkpointDir), stage);
                WriteTokenizerConfigIfMissing(stage, config);
                SafeTensors.Save(Path.Combine(stage, SafeTensorsIndex.SingleFile), weights, new Dictionary<string, string> { ["format"] = "pt" });
                var typeName = dtype switch { ScalarType.BFloat16 => "bfloat16", ScalarType.Float16 => "float16", _ => "float32" };
                var bos = tokenizer.BeginOfText ?? tokenizer.EndOfText;
                File.WriteAllText(Path.Combine(stage, "config.json"), HfConfigWriter.Write(family, config, bos, tokenizer.EndOfText, typeName).ToJsonString(Pretty));
                File.WriteAllText(Path.Combine(stage, "generation_config.json"),
                    new JsonObject { ["bos_token_id"] = bos, ["eos_token_id"] = tokenizer.EndOfText }.ToJsonString(Pretty));
            });
        }
    }

    /// <summary>The model's tensors under the family's names, stacked ones split again, missing biases as zeros.</summary>
    private static List<(string, Tensor)> Weights(Gpt model, HfFamily family, ScalarType dtype)
    {
        var ours = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach());
        var c = model.Config;
        var hf = new List<(string, Tensor)>();
        foreach (var (name, source) in HfWeightNames.Map(family, c))
        {
            var t = ours.TryGetValue(name, out var p) ? p : zeros(ours[name[..^".bias".Length] + ".weight"].shape[0]); // CodeLm's GPT has no biases
            var parts = source.Names.Count switch
            {
                1 => [t],
                3 => t.split([c.Heads * c.HeadDim, c.KvHeadCount * c.HeadDim, c.KvHeadCount * c.HeadDim], 0),
                _ => t.chunk(source.Names.Count, 0),
            };
            for (int i = 0; i < parts.Length; i++)
                hf.Add((source.Names[i], (source.Transposed ? parts[i].t() : parts[i]).contiguous().to(dtype)));
        }
        return hf;
    }

    private static ScalarType StoredType(string dir)
    {
        var index = SafeTensorsIndex.Open(dir);
        var type = index.TypeOf(index.Names.First());
        return type is ScalarType.BFloat16 or ScalarType.Float16 ? type : ScalarType.Float32;
    }

    // transformers' AutoTokenizer needs it; tokenizer directories older than TokenizerFiles writing it lack one.
    private static void WriteTokenizerConfigIfMissing(string stage, GptConfig c)
    {
        if (File.Exists(Path.Combine(stage, TokenizerFiles.TokenizerConfigJson))) return;
        File.WriteAllText(Path.Combine(stage, TokenizerFiles.TokenizerConfigJson), new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["model_max_length"] = c.ContextLength,
            ["bos_token"] = SpecialTokens.EndOfText, ["eos_token"] = SpecialTokens.EndOfText, ["unk_token"] = SpecialTokens.EndOfText,
            ["additional_special_tokens"] = new JsonArray(SpecialTokens.FimPrefix, SpecialTokens.FimMiddle, SpecialTokens.FimSuffix, SpecialTokens.FimPad),
        }.ToJsonString(Pretty));
    }
}
