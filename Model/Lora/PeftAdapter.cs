using TorchSharp;
using System.Text.Json.Nodes;
using CodeLm.Model.Hf;
using static TorchSharp.torch;

namespace CodeLm.Model.Lora;

/// <summary>
/// A LoRA adapter in PEFT's format, so it loads in the Hugging Face ecosystem: adapter_config.json (a LoraConfig) and
/// adapter_model.safetensors with base_model.model.{module}.lora_A.weight / lora_B.weight per adapted module, plus
/// CodeLm's <see cref="BaseModel"/> beside them. Trained embeddings are saved in full under their Hugging Face names,
/// as PEFT's modules_to_save.
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFile = "adapter_config.json", WeightsFile = "adapter_model.safetensors";
    private const string Prefix = "base_model.model.";

    public static bool IsAdapter(string dir) => File.Exists(Path.Combine(dir, ConfigFile));

    /// <summary>Writes the adapter of <paramref name="model"/> (with LoRA applied) into <paramref name="dir"/>.</summary>
    public static void Save(string dir, Gpt model, HfFamily family, LoraOptions o, BaseModel baseModel)
    {
        var layers = LoraModel.Layers(model).ToList();
        var tensors = Tensors(model, family, o);
        using (var scope = NewDisposeScope())
            SafeTensors.Save(Path.Combine(dir, WeightsFile), tensors.Select(t => (t.Item1, t.Item2.detach().to(ScalarType.Float32))),
                new Dictionary<string, string> { ["format"] = "pt" });
        var targets = layers.SelectMany(l => l.Linear.Parts).Select(p => TargetName(p.HfModule)).Distinct().Order(StringComparer.Ordinal);
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel.Path,
            ["r"] = o.Rank,
            ["lora_alpha"] = o.Alpha,
            ["lora_dropout"] = o.Dropout,
            ["target_modules"] = new JsonArray(targets.Select(t => (JsonNode)t!).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = family == HfFamily.Gpt2, // GPT-2's Conv1D stores [in, out]
            ["modules_to_save"] = o.TrainEmbeddings ? new JsonArray(Embeddings(model, family, o).Select(e => (JsonNode)e.HfName.Split('.')[^2]!).ToArray()) : null,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["use_rslora"] = false,
            ["use_dora"] = false,
        };
        File.WriteAllText(Path.Combine(dir, ConfigFile), config.ToJsonString(new() { WriteIndented = true }));
        baseModel.Save(dir);
    }

    /// <summary>The LoRA settings an adapter was made with.</summary>
    public static LoraOptions ReadOptions(string dir)
    {
        var path = Path.Combine(dir, ConfigFile);
        JsonObject j;
        try { j = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"'{path}' is empty."); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}"); }
        if (j["peft_type"]?.GetValue<string>() != "LORA") throw new InvalidDataException($"'{path}' is not a LoRA adapter (peft_type {j["peft_type"]}).");
        var targets = (j["target_modules"] as JsonArray ?? []).Select(t => TargetOfName(t!.GetValue<string>())).Aggregate(LoraTarget.None, (a, b) => a | b);
        return new LoraOptions
        {
            Rank = j["r"]!.GetValue<int>(),
            Alpha = j["lora_alpha"]!.GetValue<double>(),
            Dropout = j["lora_dropout"]?.GetValue<double>() ?? 0,
            Targets = targets,
            TrainEmbeddings = j["modules_to_save"] is JsonArray { Count: > 0 },
        }.Validate();
    }

    /// <summary>Copies the adapter's tensors into <paramref name="model"/> (LoRA applied with the adapter's settings).</summary>
    public static void LoadWeights(Gpt model, HfFamily family, string dir) =>
        Checkpoint.CopyNamed(Path.Combine(dir, WeightsFile), Tensors(model, family, ReadOptions(dir)), "its adapter_config.json on this model");

    /// <summary>
    /// The base model with the adapter folded in (W + scale·B·A), for inference: no merged copy is written anywhere,
    /// and the model computes as a plain one. The base's fingerprint is checked first.
    /// </summary>
    public static (Gpt Model, GptConfig Config) LoadMerged(string dir, Device device, Action<string>? progress = null)
    {
        var baseModel = BaseModel.Read(dir);
        var basePath = baseModel.Locate(dir);
        baseModel.Check(dir, basePath);
        var (model, config) = Checkpoint.LoadModel(basePath, CPU, progress: progress);
        try
        {
            var family = FamilyOf(basePath, config);
            LoraModel.Apply(model, family, ReadOptions(dir));
            LoadWeights(model, family, dir);
            LoraModel.Merge(model);
            model.to(device);
            model.eval();
            return (model, config);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The family whose module names an adapter on the model in <paramref name="dir"/> uses.</summary>
    public static HfFamily FamilyOf(string dir, GptConfig config) =>
        HfCheckpoint.IsHfFolder(dir) ? HfCheckpoint.ReadConfig(dir).Family : HfConfigWriter.FamilyFor(config);

    // The adapter's tensors under their PEFT names: each part's A and B, and trained embeddings in full.
    private static List<(string Name, Tensor Tensor)> Tensors(Gpt model, HfFamily family, LoraOptions o) =>
        LoraModel.Layers(model).SelectMany(l => l.Linear.Parts).SelectMany(p => new[]
        {
            ($"{Prefix}{p.HfModule}.lora_A.weight", (Tensor)p.LoraA),
            ($"{Prefix}{p.HfModule}.lora_B.weight", (Tensor)p.LoraB),
        }).Concat(Embeddings(model, family, o).Select(e => (Prefix + e.HfName, (Tensor)e.Weight))).ToList();

    private static IEnumerable<(string HfName, TorchSharp.Modules.Parameter Weight)> Embeddings(Gpt model, HfFamily family, LoraOptions o)
    {
        if (!o.TrainEmbeddings) yield break;
        var map = HfWeightNames.Map(family, model.Config);
        yield return (map["wte.weight"].Names[0], model.TokenEmbedding);
        if (model.HeadWeight is { } head) yield return (map["lm_head.weight"].Names[0], head);
    }

    // PEFT matches target_modules as module-name suffixes: GPT-2's c_proj is in both attention and MLP, so it says which.
    private static string TargetName(string hfModule)
    {
        var parts = hfModule.Split('.');
        return parts[^1] == "c_proj" ? $"{parts[^2]}.c_proj" : parts[^1];
    }

    private static LoraTarget TargetOfName(string name) => name switch
    {
        "q_proj" => LoraTarget.Query, "k_proj" => LoraTarget.Key, "v_proj" => LoraTarget.Value, "o_proj" or "attn.c_proj" => LoraTarget.Output,
        "gate_proj" => LoraTarget.Gate, "up_proj" or "c_fc" => LoraTarget.Up, "down_proj" or "mlp.c_proj" => LoraTarget.Down,
        "c_attn" => LoraTarget.Query | LoraTarget.Key | LoraTarget.Value,
        _ => throw new InvalidDataException($"adapter_config.json targets '{name}', which CodeLm does not adapt (it knows q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj and GPT-2's c_attn, attn.c_proj, c_fc, mlp.c_proj)."),
    };
}
