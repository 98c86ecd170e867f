using System.Text.Json.Nodes;

namespace CodeLm.Model.Hf;

/// <summary>
/// The weights of a model folder: one model.safetensors, or shards listed by model.safetensors.index.json. Tensors are
/// read one at a time, straight into their own storage, so loading never holds a second copy of the whole file.
/// </summary>
public sealed class SafeTensorsIndex
{
    public const string SingleFile = "model.safetensors", IndexFile = "model.safetensors.index.json";

    private readonly Dictionary<string, (string File, SafeTensors.Entry Entry)> _tensors;

    private SafeTensorsIndex(Dictionary<string, (string, SafeTensors.Entry)> tensors) => _tensors = tensors;

    public IEnumerable<string> Names => _tensors.Keys;
    public bool Contains(string name) => _tensors.ContainsKey(name);
    public SafeTensors.Entry this[string name] => _tensors[name].Entry;
    public TorchSharp.torch.ScalarType TypeOf(string name) => SafeTensors.TypeOf(_tensors[name].Entry, _tensors[name].File);
    public long TotalBytes => _tensors.Values.Sum(t => t.Entry.Length);

    public static SafeTensorsIndex Open(string folder)
    {
        var files = new List<string>();
        var index = Path.Combine(folder, IndexFile);
        if (File.Exists(index))
        {
            var map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"]?.AsObject()
                ?? throw new InvalidDataException($"'{index}' has no weight_map.");
            files.AddRange(map.Select(kv => kv.Value!.GetValue<string>()).Distinct());
        }
        else if (File.Exists(Path.Combine(folder, SingleFile))) files.Add(SingleFile);
        else
            throw new UnsupportedModelException(folder, ModelPart.Weights, $"no {SingleFile} or {IndexFile}", [SingleFile, $"{IndexFile} with its shards (convert .bin/.pth files with transformers first)"]);
        var tensors = new Dictionary<string, (string, SafeTensors.Entry)>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            var path = Path.Combine(folder, f);
            foreach (var e in SafeTensors.ReadHeader(path).Entries) tensors[e.Name] = (path, e);
        }
        return new SafeTensorsIndex(tensors);
    }

    /// <summary>One tensor, on the CPU, in the type the file stores it in.</summary>
    public TorchSharp.torch.Tensor Read(string name)
    {
        var (file, entry) = _tensors.TryGetValue(name, out var t) ? t
            : throw new InvalidDataException($"The weights have no tensor '{name}'.");
        using var stream = File.OpenRead(file);
        return SafeTensors.ReadTensor(stream, entry, file);
    }
}
