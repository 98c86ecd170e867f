using System.Text;

namespace CodeLm.Eval.Execution;

/// <summary>Keeps the first <c>head</c> bytes and the last <c>tail</c> bytes of a stream, and counts the rest.</summary>
internal sealed class CappedCapture(int head, int tail)
{
    private readonly MemoryStream _head = new();
    private readonly byte[] _ring = new byte[tail];
    private long _ringWritten;
    private readonly object _gate = new();

    public long Total { get; private set; }

    public void Add(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            Total += data.Length;
            var toHead = (int)Math.Min(data.Length, head - _head.Length);
            if (toHead > 0) _head.Write(data[..toHead]);
            foreach (var b in data.Length > _ring.Length ? data[^_ring.Length..] : data)
                _ring[_ringWritten++ % _ring.Length] = b;
        }
    }

    /// <summary>The captured text; when bytes were dropped, head + a marker + tail.</summary>
    public string Text()
    {
        lock (_gate)
        {
            var headText = Encoding.UTF8.GetString(_head.GetBuffer(), 0, (int)_head.Length);
            var afterHead = Total - _head.Length;
            if (afterHead <= 0) return headText;
            var tailBytes = TailBytes();
            if (afterHead <= tailBytes.Length) return headText + Encoding.UTF8.GetString(tailBytes, tailBytes.Length - (int)afterHead, (int)afterHead);
            return headText + $"\n…[{afterHead - tailBytes.Length} bytes dropped]…\n" + Encoding.UTF8.GetString(tailBytes);
        }
    }

    /// <summary>The last bytes written (up to the tail size), where the completion sentinel is looked for.</summary>
    public string TailText()
    {
        lock (_gate)
        {
            return Encoding.UTF8.GetString(TailBytes());
        }
    }

    private byte[] TailBytes()
    {
        var count = (int)Math.Min(_ringWritten, _ring.Length);
        var bytes = new byte[count];
        for (var i = 0; i < count; i++) bytes[i] = _ring[(_ringWritten - count + i) % _ring.Length];
        return bytes;
    }
}
