using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// One tensor's bytes in a read-only memory mapping of its safetensors file. Values go from the mapping straight to
/// where they are used (a parameter's storage, a float array), widened on the way when the file holds halves: no
/// staging buffer, no read() copy through the page cache. Only this tensor's range is mapped, and unmapped on
/// dispose, so a large file never counts in the process's resident memory more than one tensor at a time.
/// </summary>
internal sealed unsafe class MappedTensor : IDisposable
{
    // Elements per span handed to a copy: every span stays under 2 GiB even for 8-byte types.
    private const long Chunk = 1L << 26;

    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _data;

    public SafeTensors.Entry Entry { get; }
    public string Path { get; }

    private MappedTensor(string path, SafeTensors.Entry entry)
    {
        (Path, Entry) = (path, entry);
        if (entry.Length == 0) return; // nothing to map (a view of length 0 would mean "to the end of the file")
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _file.CreateViewAccessor(entry.Offset, entry.Length, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _data = p + _view.PointerOffset;
        }
        catch
        {
            _view?.Dispose();
            _file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps <paramref name="e"/>'s bytes. A file cut short since its header was read is refused here, before any page
    /// beyond its end could be touched (that would be a bus error, not an exception).
    /// </summary>
    public static MappedTensor Open(string path, SafeTensors.Entry e)
    {
        if (new FileInfo(path).Length < e.Offset + e.Length)
            throw new InvalidDataException($"'{path}': tensor '{e.Name}' is cut short (file truncated?).");
        return new MappedTensor(path, e);
    }

    private long Count => Entry.Shape.Aggregate(1L, (a, b) => a * b);

    private ReadOnlySpan<byte> Bytes(long elementStart, long elements, int size) =>
        new(_data + elementStart * size, checked((int)(elements * size)));

    /// <summary>
    /// Writes the values into <paramref name="flat"/>, a contiguous 1-D CPU tensor of as many elements: byte for byte
    /// when the types agree, widened when the file holds F16/BF16 and the tensor is float32, through torch otherwise.
    /// </summary>
    public void CopyTo(Tensor flat)
    {
        var type = SafeTensors.TypeOf(Entry, Path);
        if (flat.numel() != Count) throw new ArgumentException($"'{Entry.Name}' has {Count} values, the destination {flat.numel()}.");
        if (type != flat.dtype && !(flat.dtype == ScalarType.Float32 && HalfFloats.IsHalf(Entry.DType)))
        {
            using var own = ToTensor();
            flat.copy_(own.view(-1));
            return;
        }
        int size = (int)(Entry.Length / Math.Max(Count, 1));
        for (long start = 0; start < Count; start += Chunk)
        {
            var n = Math.Min(Chunk, Count - start);
            using var slice = flat.narrow(0, start, n);
            var source = Bytes(start, n, size);
            if (type == flat.dtype) source.CopyTo(slice.bytes);
            else HalfFloats.Widen(Entry.DType, source, MemoryMarshal.Cast<byte, float>(slice.bytes));
        }
    }

    /// <summary>A new CPU tensor of the file's type and shape holding the values.</summary>
    public Tensor ToTensor()
    {
        var t = empty(Entry.Shape, SafeTensors.TypeOf(Entry, Path));
        try
        {
            using var flat = t.view(-1);
            CopyTo(flat);
        }
        catch
        {
            t.Dispose();
            throw;
        }
        return t;
    }

    /// <summary>The values as float32, row-major (F32, F16 or BF16 in the file).</summary>
    public float[] ToFloats()
    {
        var values = new float[Count];
        for (long start = 0; start < Count; start += Chunk)
        {
            var n = (int)Math.Min(Chunk, Count - start);
            var into = values.AsSpan((int)start, n);
            if (Entry.DType == "F32") MemoryMarshal.Cast<byte, float>(Bytes(start, n, 4)).CopyTo(into);
            else HalfFloats.Widen(Entry.DType, Bytes(start, n, 2), into);
        }
        return values;
    }

    public void Dispose()
    {
        _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _file?.Dispose();
    }
}
