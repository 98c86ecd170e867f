using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// ({name: {dtype, shape, data_offsets}}, plus optional "__metadata__" strings), then the raw little-endian tensor bytes.
/// </summary>
public static class SafeTensors
{
    private static readonly Dictionary<ScalarType, (string Name, int Size)> Types = new()
    {
        [ScalarType.Float32] = ("F32", 4), [ScalarType.Float64] = ("F64", 8), [ScalarType.BFloat16] = ("BF16", 2),
        [ScalarType.Float16] = ("F16", 2), [ScalarType.Int64] = ("I64", 8), [ScalarType.Int32] = ("I32", 4),
        [ScalarType.Byte] = ("U8", 1),
    };

    /// <summary>Writes <paramref name="tensors"/> (in the order given) to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata != null)
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, t) in list)
        {
            if (!Types.TryGetValue(t.dtype, out var ty)) throw new NotSupportedException($"safetensors: dtype {t.dtype} of '{name}' is not supported.");
            long bytes = t.numel() * ty.Size;
            header[name] = new JsonObject
            {
                ["dtype"] = ty.Name,
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)padded);
            stream.Write(len);
            stream.Write(headerBytes);
            for (int i = headerBytes.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, t) in list)
            {
                using var cpu = t.detach().cpu().contiguous();
                stream.Write(cpu.bytes);
            }
        });
    }

    /// <summary>One tensor's place in a file: its type, shape, and absolute byte range.</summary>
    public sealed record Entry(string Name, ScalarType Type, long[] Shape, long Offset, long Bytes);

    /// <summary>Reads every tensor in the file onto the CPU, with the file's "__metadata__" strings.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        var metadata = new Dictionary<string, string>();
        var entries = ReadHeader(path, metadata);
        var tensors = new Dictionary<string, Tensor>();
        using var stream = File.OpenRead(path);
        foreach (var e in entries) tensors[e.Name] = ReadTensor(stream, e, path);
        return (tensors, metadata);
    }

    /// <summary>The tensors a file holds, without reading them; <paramref name="metadata"/> receives "__metadata__".</summary>
    public static List<Entry> ReadHeader(string path, Dictionary<string, string>? metadata = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file '{path}' does not exist.");
        using var stream = File.OpenRead(path);
        var lenBytes = new byte[8];
        if (stream.Read(lenBytes) != 8) throw new InvalidDataException($"'{path}' is too short to be a safetensors file.");
        ulong headerLen = BitConverter.ToUInt64(lenBytes);
        if (headerLen > 100_000_000 || (long)headerLen > stream.Length - 8)
            throw new InvalidDataException($"'{path}' is not a safetensors file (header length {headerLen}).");
        var headerBytes = new byte[headerLen];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new InvalidDataException($"'{path}' has a corrupt safetensors header: {e.Message}");
        }
        long dataStart = 8 + (long)headerLen;
        var entries = new List<Entry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (metadata != null) foreach (var (k, v) in node!.AsObject()) metadata[k] = v!.GetValue<string>();
                continue;
            }
            var dtypeName = node!["dtype"]!.GetValue<string>();
            var type = Types.FirstOrDefault(kv => kv.Value.Name == dtypeName);
            if (type.Value.Name == null) throw new InvalidDataException($"'{path}': tensor '{name}' has unsupported dtype {dtypeName}.");
            var shape = node["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (offsets[1] - offsets[0] != count * type.Value.Size || dataStart + offsets[1] > stream.Length)
                throw new InvalidDataException($"'{path}': tensor '{name}' has inconsistent offsets (file truncated?).");
            entries.Add(new Entry(name, type.Key, shape, dataStart + offsets[0], offsets[1] - offsets[0]));
        }
        return entries;
    }

    /// <summary>Reads one tensor straight into a new CPU tensor's storage.</summary>
    public static Tensor ReadTensor(Stream stream, Entry e, string path)
    {
        var t = empty(e.Shape, e.Type);
        try
        {
            stream.Position = e.Offset;
            if (e.Bytes <= int.MaxValue) stream.ReadExactly(t.bytes);
            else
            {
                var buffer = new byte[e.Bytes]; // beyond a span's reach: one staged copy
                stream.ReadExactly(buffer);
                t.bytes = buffer;
            }
        }
        catch (EndOfStreamException)
        {
            t.Dispose();
            throw new InvalidDataException($"'{path}': tensor '{e.Name}' is cut short (file truncated?).");
        }
        return t.DetachFromDisposeScope();
    }
}
