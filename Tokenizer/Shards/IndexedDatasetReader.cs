using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace CodeLm.Tokenizer.Shards;

/// <summary>
/// Memory-mapped reader of a Megatron MMIDIDX v1 dataset (<see cref="IndexedDatasetFormat"/>). Thread-safe for reads.
/// The header and offsets are validated on open, so a truncated or foreign file fails with a clear error, not garbage.
/// </summary>
public sealed unsafe class IndexedDatasetReader : IDisposable
{
    private readonly MemoryMappedFile _idxMap;
    private readonly MemoryMappedViewAccessor _idxView;
    private readonly MemoryMappedFile? _binMap;
    private readonly MemoryMappedViewAccessor? _binView;
    private readonly byte* _idx, _bin;
    private readonly long _binLength;
    private readonly int _width;
    private readonly long _sizesAt, _pointersAt;
    private bool _disposed;

    public int Count { get; }
    public long TotalTokens { get; }
    /// <summary>Megatron dtype code: 8 = uint16, 4 = int32.</summary>
    public byte DType { get; }

    private IndexedDatasetReader(string prefix)
    {
        var idxPath = IndexedDatasetFormat.IdxPath(prefix);
        var binPath = IndexedDatasetFormat.BinPath(prefix);
        foreach (var p in new[] { idxPath, binPath })
            if (!File.Exists(p)) throw new FileNotFoundException($"Indexed dataset file '{p}' is missing.", p);
        var idxLength = new FileInfo(idxPath).Length;
        _binLength = new FileInfo(binPath).Length;
        if (idxLength < IndexedDatasetFormat.HeaderBytes) throw new InvalidDataException($"'{idxPath}' is too short to be a Megatron index ({idxLength} bytes).");

        _idxMap = MemoryMappedFile.CreateFromFile(idxPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _idxView = _idxMap.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        _idxView.SafeMemoryMappedViewHandle.AcquirePointer(ref _idx);
        _idx += _idxView.PointerOffset;
        var header = new ReadOnlySpan<byte>(_idx, IndexedDatasetFormat.HeaderBytes);
        if (!header[..9].SequenceEqual(IndexedDatasetFormat.Magic)) Fail(idxPath, "bad magic (expected MMIDIDX)");
        var version = BinaryPrimitives.ReadUInt64LittleEndian(header[9..]);
        if (version != IndexedDatasetFormat.Version) Fail(idxPath, $"version {version}, expected 1");
        DType = header[17];
        _width = IndexedDatasetFormat.ElementSize(DType);
        var sequences = BinaryPrimitives.ReadUInt64LittleEndian(header[18..]);
        var docIdx = BinaryPrimitives.ReadUInt64LittleEndian(header[26..]);
        if (sequences > int.MaxValue) Fail(idxPath, $"{sequences} sequences is more than this reader supports");
        Count = (int)sequences;
        _sizesAt = IndexedDatasetFormat.HeaderBytes;
        _pointersAt = _sizesAt + 4L * Count;
        var expected = _pointersAt + 8L * Count + 8L * (long)docIdx;
        if (idxLength != expected) Fail(idxPath, $"{idxLength} bytes, expected {expected} for {Count} sequences (truncated or corrupt)");

        long total = 0;
        for (var i = 0; i < Count; i++)
        {
            var size = Size(i);
            var ptr = Pointer(i);
            if (size < 0 || ptr < 0 || ptr + (long)size * _width > _binLength)
                Fail(idxPath, $"sequence {i} (offset {ptr}, {size} tokens) lies outside '{binPath}' ({_binLength} bytes)");
            total += size;
        }
        TotalTokens = total;

        if (_binLength > 0) // an empty file cannot be mapped; it holds only empty documents
        {
            _binMap = MemoryMappedFile.CreateFromFile(binPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _binView = _binMap.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            _binView.SafeMemoryMappedViewHandle.AcquirePointer(ref _bin);
            _bin += _binView.PointerOffset;
        }
    }

    /// <summary>Opens <c>&lt;prefix&gt;.idx</c> and <c>&lt;prefix&gt;.bin</c>.</summary>
    public static IndexedDatasetReader Open(string prefix) => new(prefix);

    /// <summary>Number of tokens in a document.</summary>
    public int DocumentLength(int index)
    {
        CheckIndex(index);
        return Size(index);
    }

    public int[] GetDocument(int index)
    {
        var doc = new int[DocumentLength(index)];
        ReadTokens(index, 0, doc);
        return doc;
    }

    /// <summary>Copies <c>destination.Length</c> tokens of a document starting at token <paramref name="offset"/>.</summary>
    public void ReadTokens(int document, int offset, Span<int> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var size = DocumentLength(document);
        if (offset < 0 || offset + destination.Length > size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"tokens {offset}..{offset + destination.Length} are outside document {document} ({size} tokens)");
        if (destination.IsEmpty) return;
        var src = _bin + Pointer(document) + (long)offset * _width;
        if (_width == 2)
        {
            var s = new ReadOnlySpan<ushort>(src, destination.Length);
            for (var i = 0; i < s.Length; i++) destination[i] = s[i];
        }
        else new ReadOnlySpan<int>(src, destination.Length).CopyTo(destination);
    }

    private int Size(int i) => *(int*)(_idx + _sizesAt + 4L * i);
    private long Pointer(int i) => *(long*)(_idx + _pointersAt + 8L * i);

    private void CheckIndex(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"document index outside 0..{Count - 1}");
    }

    private static void Fail(string path, string why) => throw new InvalidDataException($"'{path}' is not a valid Megatron indexed dataset: {why}.");

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _idxView.SafeMemoryMappedViewHandle.ReleasePointer();
        _idxView.Dispose();
        _idxMap.Dispose();
        if (_binView != null)
        {
            _binView.SafeMemoryMappedViewHandle.ReleasePointer();
            _binView.Dispose();
            _binMap!.Dispose();
        }
    }
}
