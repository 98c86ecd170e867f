using System.Diagnostics;
using TorchSharp;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace CodeLm.Model.Hf;

/// <summary>
/// A Hugging Face model folder (config.json with a transformers model_type, safetensors weights, tokenizer.json) read as
/// a CodeLm model: the weights are mapped onto CodeLm's parameter names once, at load, so every stage runs it unchanged.
/// </summary>
public static class HfCheckpoint
{
    /// <summary>The files of a model folder that describe its tokenizer and special tokens.</summary>
    public static IReadOnlyList<string> TokenizerFiles => CodeLm.Tokenizer.TokenizerFiles.ModelTokenizerFiles;

    /// <summary>Whether <paramref name="dir"/> holds a transformers config.json rather than a CodeLm one.</summary>
    public static bool IsHfFolder(string dir)
    {
        var path = Path.Combine(dir, Checkpoint.ConfigFile);
        if (!File.Exists(path)) return false;
        try { return JsonNode.Parse(File.ReadAllText(path))?["model_type"]?.GetValue<string>() is { } t && t != GptConfig.ModelType; }
        catch (System.Text.Json.JsonException) { return false; }
    }

    public static (HfFamily Family, GptConfig Config) ReadConfig(string dir)
    {
        var path = Path.Combine(dir, Checkpoint.ConfigFile);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Model folder '{dir}' does not exist.");
        if (!File.Exists(path)) throw new FileNotFoundException($"'{dir}' has no {Checkpoint.ConfigFile}: it is not a Hugging Face model folder.", path);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"'{path}' is empty."); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}"); }
        return HfArchitectures.Read(json, dir);
    }

    /// <summary>Builds the model from the folder's weights (any of F32, F16, BF16; one file or shards), in eval mode.</summary>
    public static Gpt LoadModel(string dir, Device device, Action<string>? progress = null)
    {
        Native.TorchNativeLoader.EnsureLoaded();
        var (family, config) = ReadConfig(dir);
        var index = SafeTensorsIndex.Open(dir);
        var map = HfWeightNames.Map(family, config, index.Contains("wte.weight") ? "" : "transformer.");
        CheckNames(dir, family, config, index, map);

        var model = new Gpt(config, initialize: false);
        long done = 0, total = index.TotalBytes;
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
            {
                using var scope = NewDisposeScope();
                var source = map[name];
                var parts = source.Names.Select(index.Read).ToArray();
                var t = parts.Length == 1 ? parts[0] : cat(parts, 0);
                if (source.Transposed) t = t.t();
                if (!t.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"'{dir}': {string.Join(" + ", source.Names)} has shape [{string.Join(",", t.shape)}], config.json implies [{string.Join(",", p.shape)}] for {name}.");
                p.copy_(t);
                done += source.Names.Sum(n => index[n].Length);
                if (progress != null && clock.Elapsed - lastReport > TimeSpan.FromSeconds(1))
                {
                    lastReport = clock.Elapsed;
                    progress($"loading {Path.GetFileName(Path.GetFullPath(dir))}: {100.0 * done / total:F0}% of {total / 1e9:F2} GB");
                }
            }
        model.to(device);
        model.eval();
        return model;
    }

    private static void CheckNames(string dir, HfFamily family, GptConfig c, SafeTensorsIndex index, IReadOnlyDictionary<string, HfSource> map)
    {
        var wanted = map.Values.SelectMany(s => s.Names).ToHashSet(StringComparer.Ordinal);
        var missing = wanted.Where(n => !index.Contains(n)).Take(5).ToList();
        var unexpected = index.Names.Where(n => !wanted.Contains(n) && !HfWeightNames.IsIgnorable(n, c)).Take(5).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"'{dir}': the weights do not match a {family} model with this config.json: "
                + $"missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}].");
    }
}
