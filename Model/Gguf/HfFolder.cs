using CodeLm.Model.Hf;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CodeLm.Model.Gguf;

/// <summary>
/// A Hugging Face model folder as the converter reads it: config.json, and the weights of model.safetensors or of the
/// shards that model.safetensors.index.json names. Tensors are read one at a time, as float32, straight from the files.
/// </summary>
internal sealed class HfFolder
{
    public const string ConfigFile = "config.json", WeightsFile = "model.safetensors", IndexFile = "model.safetensors.index.json";

    /// <summary>The weight dtypes read, by their safetensors names.</summary>
    public static readonly IReadOnlyList<string> ReadableTypes = ["F32", "F16", "BF16"];

    private readonly Dictionary<string, (string File, SafeTensors.Entry Entry)> _tensors;

    public string Path { get; }
    public JsonObject Config { get; }
    public string ModelType { get; }
    public IReadOnlyCollection<string> TensorNames => _tensors.Keys;

    private HfFolder(string path, JsonObject config, Dictionary<string, (string, SafeTensors.Entry)> tensors)
    {
        Path = path;
        Config = config;
        ModelType = config["model_type"]?.GetValue<string>() ?? throw new InvalidDataException($"'{System.IO.Path.Combine(path, ConfigFile)}' has no model_type.");
        _tensors = tensors;
    }

    public static HfFolder Open(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Model folder '{path}' does not exist.");
        var configPath = System.IO.Path.Combine(path, ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"'{path}' has no {ConfigFile}: it is not a Hugging Face model folder.", configPath);
        JsonObject config;
        try { config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new InvalidDataException($"'{configPath}' is not a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"'{configPath}' is not valid JSON: {e.Message}"); }
        return new HfFolder(path, config, IndexWeights(path));
    }

    /// <summary>Every tensor name → the file and header entry holding it.</summary>
    private static Dictionary<string, (string, SafeTensors.Entry)> IndexWeights(string path)
    {
        var single = System.IO.Path.Combine(path, WeightsFile);
        var index = System.IO.Path.Combine(path, IndexFile);
        IEnumerable<string> files;
        if (File.Exists(index))
        {
            JsonObject map;
            try { map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject ?? throw new InvalidDataException($"'{index}' has no weight_map."); }
            catch (JsonException e) { throw new InvalidDataException($"'{index}' is not valid JSON: {e.Message}"); }
            files = map.Select(kv => kv.Value!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal).ToList();
            foreach (var f in files)
                if (!File.Exists(System.IO.Path.Combine(path, f)))
                    throw new FileNotFoundException($"'{index}' names the shard '{f}', which is missing from '{path}'.", System.IO.Path.Combine(path, f));
        }
        else if (File.Exists(single)) files = [WeightsFile];
        else
        {
            var present = Directory.EnumerateFiles(path).Select(System.IO.Path.GetFileName).Where(f => f != ConfigFile).Order(StringComparer.Ordinal).ToList();
            throw UnsupportedModelException.ForGguf(path, ModelPart.Weights,
                present.Count == 0 ? "only config.json" : string.Join(", ", present.Take(8)),
                [WeightsFile, IndexFile + " with its *.safetensors shards"]);
        }
        var tensors = new Dictionary<string, (string, SafeTensors.Entry)>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            var file = System.IO.Path.Combine(path, f);
            foreach (var e in SafeTensors.ReadHeader(file).Entries)
                if (!tensors.TryAdd(e.Name, (file, e))) throw new InvalidDataException($"'{path}': tensor '{e.Name}' is stored twice.");
        }
        return tensors;
    }

    public bool Has(string name) => _tensors.ContainsKey(name);

    public long[] Shape(string name) => Entry(name).Entry.Shape;

    /// <summary>The tensor's values as float32, row-major.</summary>
    public float[] Read(string name)
    {
        var (file, e) = Entry(name);
        if (!ReadableTypes.Contains(e.DType))
            throw UnsupportedModelException.ForGguf(Path, ModelPart.TensorType, $"{e.DType} (tensor '{name}')", ReadableTypes);
        var bytes = new byte[e.Length];
        using (var s = File.OpenRead(file))
        {
            s.Position = e.Offset;
            s.ReadExactly(bytes);
        }
        var span = bytes.AsSpan();
        switch (e.DType)
        {
            case "F32":
                return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray();
            case "F16":
            {
                var values = new float[e.Length / 2];
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span[(2 * i)..]);
                return values;
            }
            default: // BF16: the upper half of a float32's bits
            {
                var values = new float[e.Length / 2];
                for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..]) << 16);
                return values;
            }
        }
    }

    private (string File, SafeTensors.Entry Entry) Entry(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"'{Path}': the weights have no tensor '{name}'.");

    // ---- config.json values ----

    public int Int(string key) => IntOr(key) ?? throw Missing(key);
    public int? IntOr(string key) => Config[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<int>() : null;
    public double Number(string key) => NumberOr(key) ?? throw Missing(key);
    public double? NumberOr(string key) => Config[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : null;
    public string? StringOr(string key) => Config[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
    public bool? BoolOr(string key) => Config[key] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    private InvalidDataException Missing(string key) =>
        new($"'{System.IO.Path.Combine(Path, ConfigFile)}' lacks '{key}', which model_type {ModelType} needs.");
}
