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
    /// <param name="linearWeights">The type the linear layers keep their weights in (see <see cref="Gpt"/>).</param>
    public static Gpt LoadModel(string dir, Device device, Action<string>? progress = null, ScalarType linearWeights = ScalarType.Float32)
    {
        Native.TorchNativeLoader.EnsureLoaded();
        var (family, config) = ReadConfig(dir);
        var index = SafeTensorsIndex.Open(dir);
        var map = HfWeightNames.Map(family, config, index.Contains("wte.weight") ? "" : "transformer.");
        CheckNames(dir, family, config, index, map);

        var model = new Gpt(config, initialize: false, linearWeights);
        long done = 0, total = index.TotalBytes;
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
            {
                using var scope = NewDisposeScope();
                var source = map[name];
                var shape = SourceShape(index, source);
                if (shape == null || !shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"'{dir}': {string.Join(" + ", source.Names)} has shape [{string.Join(" + ", source.Names.Select(n => string.Join(",", index[n].Shape)))}]" +
                        $"{(source.Transposed ? " (transposed)" : "")}, config.json implies [{string.Join(",", p.shape)}] for {name}.");
                if (source.Transposed)
                {
                    using var stored = index.Read(source.Names[0]); // GPT-2's Conv1D [in, out]: not rows of ours
                    p.copy_(stored.t());
                }
                else CopyRows(index, source.Names, p);
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

    /// <summary>The shape the parts make stacked along their first dimension (and transposed when stored so); null when they cannot stack.</summary>
    private static long[]? SourceShape(SafeTensorsIndex index, HfSource source)
    {
        var shapes = source.Names.Select(n => index[n].Shape).ToList();
        if (shapes.Any(s => s.Length == 0 || !s.AsSpan(1).SequenceEqual(shapes[0].AsSpan(1)))) return null;
        long[] shape = [shapes.Sum(s => s[0]), .. shapes[0][1..]];
        return source.Transposed ? (shape.Length == 2 ? [shape[1], shape[0]] : null) : shape;
    }

    // Parts stacked along the first dimension (q, k and v into c_attn) are consecutive runs of the parameter's storage:
    // each goes from the file's mapping straight into its rows, converted on the way, with no tensor in between.
    private static void CopyRows(SafeTensorsIndex index, IReadOnlyList<string> names, Tensor p)
    {
        using var flat = p.view(-1);
        long at = 0;
        foreach (var n in names)
        {
            var count = index[n].Shape.Aggregate(1L, (a, b) => a * b);
            using var rows = flat.narrow(0, at, count);
            index.CopyInto(n, rows);
            at += count;
        }
    }

    /// <summary>Whether every tensor of the folder is stored as bfloat16 (most published checkpoints are).</summary>
    public static bool StoresBFloat16(string dir) => SafeTensorsIndex.Open(dir) is var index && index.Names.All(n => index[n].DType == "BF16");

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
