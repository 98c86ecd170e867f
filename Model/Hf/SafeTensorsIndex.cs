using System.Text.Json;
using System.Text.Json.Nodes;

namespace CodeLm.Model.Hf;

/// <summary>
/// The weights of a model folder: one model.safetensors, or shards listed by model.safetensors.index.json. Tensors are
/// read one at a time from a read-only memory mapping of their file (<see cref="MappedTensor"/>), so loading never
/// holds a second copy of the whole file: into a parameter's storage (<see cref="CopyInto"/>, for loading), as torch
/// tensors (<see cref="Read"/>) or as float32 arrays (<see cref="ReadFloats"/>, for the GGUF converter).
/// </summary>
public sealed class SafeTensorsIndex
{
    public const string SingleFile = "model.safetensors", IndexFile = "model.safetensors.index.json";

    private readonly Dictionary<string, (string File, SafeTensors.Entry Entry)> _tensors;

    private SafeTensorsIndex(string folder, Dictionary<string, (string, SafeTensors.Entry)> tensors) => (Folder, _tensors) = (folder, tensors);

    public string Folder { get; }
    public IEnumerable<string> Names => _tensors.Keys;
    public bool Contains(string name) => _tensors.ContainsKey(name);
    public SafeTensors.Entry this[string name] => _tensors[name].Entry;
    public TorchSharp.torch.ScalarType TypeOf(string name) => SafeTensors.TypeOf(_tensors[name].Entry, _tensors[name].File);
    public long TotalBytes => _tensors.Values.Sum(t => t.Entry.Length);

    public static SafeTensorsIndex Open(string folder)
    {
        List<string> files;
        var index = Path.Combine(folder, IndexFile);
        if (File.Exists(index))
        {
            JsonObject map;
            try { map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject ?? throw new InvalidDataException($"'{index}' has no weight_map."); }
            catch (JsonException e) { throw new InvalidDataException($"'{index}' is not valid JSON: {e.Message}"); }
            files = map.Select(kv => kv.Value!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal).ToList();
            foreach (var f in files)
                if (!File.Exists(Path.Combine(folder, f)))
                    throw new FileNotFoundException($"'{index}' names the shard '{f}', which is missing from '{folder}'.", Path.Combine(folder, f));
        }
        else if (File.Exists(Path.Combine(folder, SingleFile))) files = [SingleFile];
        else
        {
            var present = Directory.EnumerateFiles(folder).Select(Path.GetFileName).Where(f => f != Checkpoint.ConfigFile).Order(StringComparer.Ordinal).ToList();
            throw new UnsupportedModelException(folder, ModelPart.Weights, present.Count == 0 ? "only config.json" : string.Join(", ", present.Take(8)),
                [SingleFile, $"{IndexFile} with its shards (convert .bin/.pth files with transformers first)"]);
        }
        var tensors = new Dictionary<string, (string, SafeTensors.Entry)>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            var path = Path.Combine(folder, f);
            foreach (var e in SafeTensors.ReadHeader(path).Entries)
                if (!tensors.TryAdd(e.Name, (path, e))) throw new InvalidDataException($"'{folder}': tensor '{e.Name}' is stored twice.");
        }
        return new SafeTensorsIndex(folder, tensors);
    }

    /// <summary>One tensor, on the CPU, in the type the file stores it in.</summary>
    public TorchSharp.torch.Tensor Read(string name)
    {
        var (file, entry) = Find(name);
        return SafeTensors.ReadTensor(file, entry);
    }

    /// <summary>One tensor's values into <paramref name="flat"/>, a contiguous 1-D CPU tensor of as many elements (see <see cref="SafeTensors.CopyTensor"/>).</summary>
    public void CopyInto(string name, TorchSharp.torch.Tensor flat)
    {
        var (file, entry) = Find(name);
        SafeTensors.CopyTensor(file, entry, flat);
    }

    /// <summary>One tensor's values as float32, row-major, without torch (F32, F16 or BF16 weights).</summary>
    public float[] ReadFloats(string name)
    {
        var (file, entry) = Find(name);
        if (!SafeTensors.FloatTypes.Contains(entry.DType))
            throw new UnsupportedModelException(Folder, ModelPart.TensorType, $"{entry.DType} (tensor '{name}')", SafeTensors.FloatTypes);
        return SafeTensors.ReadFloats(file, entry);
    }

    private (string File, SafeTensors.Entry Entry) Find(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"'{Folder}': the weights have no tensor '{name}'.");
}
