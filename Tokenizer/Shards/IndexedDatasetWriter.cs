using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CodeLm.Tokenizer.Shards;

/// <summary>
/// Writes <c>&lt;prefix&gt;.bin/.idx</c> (see <see cref="IndexedDatasetFormat"/>). Documents stream to a temp file;
/// <see cref="Commit"/> writes the index and renames both into place, so readers never see a half-written dataset.
/// Disposing without Commit removes the temp files.
/// </summary>
public sealed class IndexedDatasetWriter : IDisposable
{
    private readonly string _prefix, _binTmp, _idxTmp;
    private readonly byte _dtype;
    private readonly int _vocabSize;
    private readonly FileStream _bin;
    private readonly List<int> _sizes = [];
    private byte[] _buffer = new byte[1 << 16];
    private bool _committed;

    public IndexedDatasetWriter(string prefix, int vocabSize)
    {
        if (vocabSize <= 0) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "vocabulary size must be positive");
        _prefix = prefix;
        _vocabSize = vocabSize;
        _dtype = IndexedDatasetFormat.DTypeFor(vocabSize);
        var dir = Path.GetDirectoryName(Path.GetFullPath(prefix))!;
        Directory.CreateDirectory(dir);
        var tag = $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _binTmp = IndexedDatasetFormat.BinPath(prefix) + tag;
        _idxTmp = IndexedDatasetFormat.IdxPath(prefix) + tag;
        _bin = new FileStream(_binTmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public int Count => _sizes.Count;
    public long TotalTokens { get; private set; }

    /// <summary>Appends one document (token ids, each in 0..vocabSize-1).</summary>
    public void Add(ReadOnlySpan<int> document)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        var width = IndexedDatasetFormat.ElementSize(_dtype);
        var need = document.Length * width;
        if (_buffer.Length < need) _buffer = new byte[Math.Max(need, _buffer.Length * 2)];
        for (var i = 0; i < document.Length; i++)
        {
            var t = document[i];
            if ((uint)t >= (uint)_vocabSize) throw new ArgumentOutOfRangeException(nameof(document), t, $"token id outside 0..{_vocabSize - 1}");
            if (width == 2) BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(i * 2), (ushort)t);
            else BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(i * 4), t);
        }
        _bin.Write(_buffer, 0, need);
        _sizes.Add(document.Length);
        TotalTokens += document.Length;
    }

    /// <summary>Writes the index and atomically moves both files to their final names.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _bin.Flush(flushToDisk: true);
        _bin.Dispose();
        using (var idx = new FileStream(_idxTmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        using (var w = new BinaryWriter(idx))
        {
            w.Write(IndexedDatasetFormat.Magic);
            w.Write(IndexedDatasetFormat.Version);
            w.Write(_dtype);
            w.Write((ulong)_sizes.Count);
            w.Write((ulong)_sizes.Count + 1);
            w.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_sizes)));
            long pointer = 0;
            var width = IndexedDatasetFormat.ElementSize(_dtype);
            foreach (var size in _sizes) { w.Write(pointer); pointer += (long)size * width; }
            for (long d = 0; d <= _sizes.Count; d++) w.Write(d);
            w.Flush();
            idx.Flush(flushToDisk: true);
        }
        // .bin first: an .idx only ever sits next to the .bin it describes.
        File.Move(_binTmp, IndexedDatasetFormat.BinPath(_prefix), overwrite: true);
        File.Move(_idxTmp, IndexedDatasetFormat.IdxPath(_prefix), overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        _bin.Dispose();
        TryDelete(_binTmp);
        TryDelete(_idxTmp);
        _committed = true;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
