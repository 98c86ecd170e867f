using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using ZstdSharp;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// The data pages of one Parquet file being written: column buffers cut into pages of about <see cref="PageBytes"/>,
/// each compressed with zstd on the thread pool while the rows after it are added, so reading the spill and compressing
/// overlap on every core. Page buffers and compressed frames live outside the GC heap (<see cref="NativeBuffer{T}"/>) and
/// are reused from page to page and row group to row group: fresh arrays this size land on the large-object heap, and
/// its budget forced a full, blocking collection every few megabytes written.
/// </summary>
internal sealed class ParquetPages : IDisposable
{
    public const int PageBytes = 1 << 20;
    // zstd level 1: the fastest of zstd's standard levels; the corpus is written once per build and read often, so the
    // negative (faster, larger) levels are not used.
    private const int ZstdLevel = 1;
    private static readonly int MaxInFlight = Environment.ProcessorCount;

    private readonly ConcurrentBag<Zstd> _compressors = [];
    private readonly ConcurrentBag<NativeBuffer<byte>> _buffers = [];
    private readonly Queue<Page> _inFlight = new();
    private readonly FrameArena _frames = new();
    private readonly List<ColumnBuffer> _columns = [];

    public ColumnBuffer NewColumn()
    {
        var column = new ColumnBuffer(this);
        _columns.Add(column);
        return column;
    }

    /// <summary>Queues a full page for compression. Reading the spill outruns compressing, so past a page per core the
    /// caller waits for (or does) the oldest one itself: that bounds the buffers held.</summary>
    private void Queue(Page page)
    {
        _inFlight.Enqueue(page);
        ThreadPool.UnsafeQueueUserWorkItem(p => p.Compress(), page, preferLocal: false);
        while (_inFlight.Count > MaxInFlight) _inFlight.Dequeue().WaitCompressed();
    }

    /// <summary>After a row group is written: its frames are no longer needed.</summary>
    public void RowGroupWritten()
    {
        _inFlight.Clear();
        _frames.Reset();
    }

    public void Dispose()
    {
        // After a failure mid-file, pages may still be compressing on pool threads with these compressors and buffers.
        while (_inFlight.TryDequeue(out var page)) page.Abandon();
        foreach (var c in _columns) c.DropOpenPage();
        foreach (var c in _compressors) c.Dispose();
        _compressors.Clear();
        while (_buffers.TryTake(out var b)) b.Free();
        _frames.Dispose();
    }

    private NativeBuffer<byte> RentBuffer(int size) => size == PageBytes && _buffers.TryTake(out var b) ? b : new NativeBuffer<byte>(size);

    private void ReturnBuffer(NativeBuffer<byte> buffer)
    {
        if (buffer.Length == PageBytes) _buffers.Add(buffer);
        else buffer.Free();
    }

    /// <summary>One column's PLAIN-encoded values of the open row group (a little-endian length before each value), in pages.</summary>
    public sealed class ColumnBuffer(ParquetPages owner)
    {
        private readonly List<Page> _pages = [];
        private Page? _open;
        // Small columns (language, license) never fill a standard page: pages start small and double.
        private int _nextPage = 64 << 10;
        public long Bytes { get; private set; }

        public void Add(string value)
        {
            var span = Reserve(Encoding.UTF8.GetByteCount(value));
            Encoding.UTF8.GetBytes(value, span);
        }

        /// <summary>Room for a value of <paramref name="length"/> bytes; fill it before the next call.</summary>
        public Span<byte> Reserve(int length)
        {
            int needed = 4 + length;
            if (_open != null && _open.Length + needed > _open.Data.Length) Cut();
            _open ??= new Page(owner, owner.RentBuffer(Math.Max(_nextPage, needed)));
            var data = _open.Data.GetSpan();
            BinaryPrimitives.WriteInt32LittleEndian(data[_open.Length..], length);
            var span = data.Slice(_open.Length + 4, length);
            _open.Length += needed;
            _open.Values++;
            Bytes += needed;
            return span;
        }

        /// <summary>The row group's pages, in order; the column starts the next row group empty.</summary>
        public List<Page> TakePages()
        {
            if (_open != null) Cut();
            var pages = new List<Page>(_pages);
            _pages.Clear();
            Bytes = 0;
            return pages;
        }

        /// <summary>After a failure: the page being filled is never written.</summary>
        public void DropOpenPage()
        {
            if (_open != null) owner.ReturnBuffer(_open.Data);
            _open = null;
        }

        private void Cut()
        {
            var page = _open!;
            _open = null;
            _nextPage = Math.Min(PageBytes, _nextPage * 2);
            _pages.Add(page);
            owner.Queue(page);
        }
    }

    /// <summary>One data page: its values, then its zstd frame, made by whichever thread claims the page first.</summary>
    public sealed class Page(ParquetPages owner, NativeBuffer<byte> data)
    {
        public readonly NativeBuffer<byte> Data = data;
        public int Length, Values;
        private ReadOnlyMemory<byte> _compressed;
        private int _claimed;
        private Exception? _error;
        private readonly ManualResetEventSlim _done = new(false);

        public void Compress()
        {
            if (Interlocked.Exchange(ref _claimed, 1) != 0) return;
            var zstd = owner._compressors.TryTake(out var z) ? z : new Zstd();
            try { _compressed = owner._frames.Store(zstd.Compress(Data.GetSpan()[..Length])); }
            catch (Exception e) { _error = e; }
            finally
            {
                owner._compressors.Add(zstd);
                owner.ReturnBuffer(Data);
                _done.Set();
            }
        }

        /// <summary>The zstd frame: compressed here if no pool thread has started on the page, else waited for.</summary>
        public ReadOnlyMemory<byte> WaitCompressed()
        {
            Compress();
            _done.Wait();
            if (_error != null) throw new IOException($"compressing a Parquet page failed: {_error.Message}", _error);
            return _compressed;
        }

        /// <summary>Drops the page unwritten, once no pool thread is compressing it.</summary>
        public void Abandon()
        {
            if (Interlocked.Exchange(ref _claimed, 1) == 0)
            {
                owner.ReturnBuffer(Data);
                _done.Set();
            }
            _done.Wait();
        }
    }

    /// <summary>A compressor and its output buffer, used by one thread at a time.</summary>
    private sealed class Zstd : IDisposable
    {
        private readonly Compressor _compressor = new(ZstdLevel);
        private NativeBuffer<byte> _scratch = new(Compressor.GetCompressBound(PageBytes));

        public ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> source)
        {
            // A page of one value larger than a standard page grows the buffer.
            var scratch = NativeBuffer<byte>.AtLeast(ref _scratch, Compressor.GetCompressBound(source.Length)).GetSpan();
            return scratch[.._compressor.Wrap(source, scratch)];
        }

        public void Dispose()
        {
            _compressor.Dispose();
            _scratch.Free();
        }
    }

    /// <summary>The compressed frames of the open row group, packed into 1 MB segments that the next row group reuses.</summary>
    private sealed class FrameArena : IDisposable
    {
        private const int SegmentBytes = 1 << 20;
        private readonly List<NativeBuffer<byte>> _segments = [];
        private readonly Lock _lock = new();
        private int _segment, _used;

        public ReadOnlyMemory<byte> Store(ReadOnlySpan<byte> frame)
        {
            if (frame.Length > SegmentBytes) return frame.ToArray();
            Memory<byte> into;
            lock (_lock)
            {
                if (_segment < _segments.Count && _used + frame.Length > SegmentBytes) (_segment, _used) = (_segment + 1, 0);
                if (_segment == _segments.Count) _segments.Add(new NativeBuffer<byte>(SegmentBytes));
                into = _segments[_segment].Memory.Slice(_used, frame.Length);
                _used += frame.Length;
            }
            frame.CopyTo(into.Span);
            return into;
        }

        public void Reset() => (_segment, _used) = (0, 0);

        public void Dispose()
        {
            foreach (var s in _segments) s.Free();
            _segments.Clear();
        }
    }
}
