using System.Text;

namespace CodeLm.Model.Tests;

/// <summary>
/// A GGUF reader written from the format description, independent of the writer under test: metadata values
/// (scalars, strings, arrays), tensor infos and each tensor's raw bytes.
/// </summary>
public sealed class GgufReader
{
    public sealed record Tensor(string Name, long[] Dims, uint Type, long Offset);

    public uint Version { get; }
    public Dictionary<string, object> Metadata { get; } = new();
    public List<Tensor> Tensors { get; } = [];
    public long DataStart { get; }
    private readonly byte[] _bytes;

    public GgufReader(string path)
    {
        _bytes = File.ReadAllBytes(path);
        using var r = new BinaryReader(new MemoryStream(_bytes));
        if (Encoding.ASCII.GetString(r.ReadBytes(4)) != "GGUF") throw new InvalidDataException("no GGUF magic");
        Version = r.ReadUInt32();
        long tensors = (long)r.ReadUInt64(), kvs = (long)r.ReadUInt64();
        for (long i = 0; i < kvs; i++)
        {
            var key = Str(r);
            Metadata[key] = Value(r, r.ReadUInt32());
        }
        for (long i = 0; i < tensors; i++)
        {
            var name = Str(r);
            var dims = new long[r.ReadUInt32()];
            for (int d = 0; d < dims.Length; d++) dims[d] = (long)r.ReadUInt64();
            Tensors.Add(new Tensor(name, dims, r.ReadUInt32(), (long)r.ReadUInt64()));
        }
        uint alignment = Metadata.TryGetValue("general.alignment", out var a) ? (uint)a : 32;
        DataStart = (r.BaseStream.Position + alignment - 1) / alignment * alignment;
    }

    public Tensor Find(string name) => Tensors.Single(t => t.Name == name);

    /// <summary>A tensor's bytes: up to the next tensor's offset (or the file's end), less the padding after it.</summary>
    public ReadOnlySpan<byte> Data(string name, long byteLength)
    {
        var t = Find(name);
        return _bytes.AsSpan((int)(DataStart + t.Offset), (int)byteLength);
    }

    private static string Str(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes((int)r.ReadUInt64()));

    private static object Value(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(), 1 => r.ReadSByte(), 2 => r.ReadUInt16(), 3 => r.ReadInt16(), 4 => r.ReadUInt32(), 5 => r.ReadInt32(),
        6 => r.ReadSingle(), 7 => r.ReadBoolean(), 8 => Str(r), 10 => r.ReadUInt64(), 11 => r.ReadInt64(), 12 => r.ReadDouble(),
        9 => Array(r),
        _ => throw new InvalidDataException($"unknown GGUF value type {type}"),
    };

    private static object[] Array(BinaryReader r)
    {
        uint type = r.ReadUInt32();
        var values = new object[(long)r.ReadUInt64()];
        for (long i = 0; i < values.Length; i++) values[i] = Value(r, type);
        return values;
    }
}
