using System.Runtime.InteropServices;
using System.Text;
using CodeLm.Common;

namespace CodeLm.Model.Gguf;

/// <summary>
/// Writes a GGUF v3 file, the format llama.cpp loads: "GGUF", version, tensor and key/value counts, typed key/values,
/// tensor infos (name, dims innermost-first, ggml type, offset), then the tensor data, each tensor starting on a
/// 32-byte boundary (general.alignment's default). Everything is little-endian.
/// Tensor data is asked for one tensor at a time while writing, so a converter never holds the whole model in memory.
/// The file appears atomically (<see cref="AtomicFile"/>): a reader never sees half an export.
/// </summary>
public sealed class GgufWriter
{
    public const uint Version = 3;
    public const int Alignment = 32;

    private readonly List<(string Key, Value Value)> _metadata = [];
    private readonly List<TensorInfo> _tensors = [];
    private readonly HashSet<string> _keys = [], _tensorNames = [];

    public void Add(string key, string value) => AddValue(key, new Value(ValueType.String, w => WriteString(w, value)));
    public void Add(string key, uint value) => AddValue(key, new Value(ValueType.UInt32, w => w.Write(value)));
    public void Add(string key, int value) => AddValue(key, new Value(ValueType.Int32, w => w.Write(value)));
    public void Add(string key, ulong value) => AddValue(key, new Value(ValueType.UInt64, w => w.Write(value)));
    public void Add(string key, float value) => AddValue(key, new Value(ValueType.Float32, w => w.Write(value)));
    public void Add(string key, bool value) => AddValue(key, new Value(ValueType.Bool, w => w.Write(value)));

    public void Add(string key, IReadOnlyList<string> values) => AddValue(key, new Value(ValueType.Array, w =>
    {
        w.Write((uint)ValueType.String);
        w.Write((ulong)values.Count);
        foreach (var v in values) WriteString(w, v);
    }));

    public void Add(string key, IReadOnlyList<int> values) => AddValue(key, new Value(ValueType.Array, w =>
    {
        w.Write((uint)ValueType.Int32);
        w.Write((ulong)values.Count);
        foreach (var v in values) w.Write(v);
    }));

    /// <summary>
    /// Adds a tensor of <paramref name="shape"/> (row-major, outermost first, as torch and safetensors give it; GGUF
    /// lists the same dims reversed) stored as <paramref name="type"/>; <paramref name="data"/> is called once, while
    /// writing, and must return shape's product of floats in row-major order.
    /// </summary>
    public void AddTensor(string name, IReadOnlyList<long> shape, GgufType type, Func<float[]> data)
    {
        if (!_tensorNames.Add(name)) throw new ArgumentException($"GGUF tensor '{name}' was added twice.", nameof(name));
        if (shape.Count is < 1 or > 4) throw new ArgumentException($"GGUF tensor '{name}' has {shape.Count} dims; ggml has 1 to 4.", nameof(shape));
        if (type == GgufType.Q8_0 && shape[^1] % Q8_0.BlockSize != 0)
            throw new ArgumentException($"GGUF tensor '{name}': Q8_0 needs rows of a multiple of {Q8_0.BlockSize} values, its rows have {shape[^1]}.", nameof(type));
        long count = shape.Aggregate(1L, (a, b) => a * b);
        _tensors.Add(new TensorInfo(name, shape.ToArray(), type, count, data));
    }

    /// <summary>Writes the file; <paramref name="onTensor"/> is told each tensor's name as its data is written.</summary>
    public void Write(string path, Action<string>? onTensor = null) => AtomicFile.Write(path, stream =>
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            value.Write(w);
        }
        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            for (int i = t.Shape.Length - 1; i >= 0; i--) w.Write((ulong)t.Shape[i]); // ne0 (the innermost dim) first
            w.Write(GgmlType.Id(t.Type));
            w.Write((ulong)offset);
            offset = Align(offset + GgmlType.ByteSize(t.Type, t.Count));
        }
        Pad(w);
        foreach (var t in _tensors)
        {
            onTensor?.Invoke(t.Name);
            var values = t.Data();
            if (values.LongLength != t.Count)
                throw new InvalidOperationException($"GGUF tensor '{t.Name}': expected {t.Count} values for shape [{string.Join(", ", t.Shape)}], got {values.LongLength}.");
            WriteData(w, values, t.Type);
            Pad(w);
        }
        w.Flush();
    });

    /// <summary>Writes the values in <paramref name="type"/>'s encoding, a chunk at a time (no second copy of a large tensor).</summary>
    private static void WriteData(BinaryWriter w, float[] values, GgufType type)
    {
        const int Chunk = 1 << 16; // values per chunk, a multiple of Q8_0's block
        switch (type)
        {
            case GgufType.F32:
                w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
                break;
            case GgufType.F16:
                var halves = new Half[Math.Min(Chunk, values.Length)];
                for (int start = 0; start < values.Length; start += Chunk)
                {
                    int n = Math.Min(Chunk, values.Length - start);
                    for (int i = 0; i < n; i++) halves[i] = (Half)values[start + i]; // round to nearest even, as numpy's astype(float16)
                    w.Write(MemoryMarshal.AsBytes(halves.AsSpan(0, n)));
                }
                break;
            case GgufType.Q8_0:
                var blocks = new byte[GgmlType.ByteSize(type, Math.Min(Chunk, values.Length))];
                for (int start = 0; start < values.Length; start += Chunk)
                {
                    int n = Math.Min(Chunk, values.Length - start);
                    int bytes = (int)GgmlType.ByteSize(type, n);
                    Q8_0.Quantize(values.AsSpan(start, n), blocks.AsSpan(0, bytes));
                    w.Write(blocks.AsSpan(0, bytes));
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    private void AddValue(string key, Value value)
    {
        if (!_keys.Add(key)) throw new ArgumentException($"GGUF key '{key}' was added twice.", nameof(key));
        _metadata.Add((key, value));
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        long pos = w.BaseStream.Position;
        for (long i = pos; i < Align(pos); i++) w.Write((byte)0);
    }

    /// <summary>gguf_type: the tag written before each value.</summary>
    private enum ValueType : uint
    {
        UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9,
        UInt64 = 10, Int64 = 11, Float64 = 12,
    }

    private sealed record Value(ValueType Type, Action<BinaryWriter> Write);

    private sealed record TensorInfo(string Name, long[] Shape, GgufType Type, long Count, Func<float[]> Data);
}
