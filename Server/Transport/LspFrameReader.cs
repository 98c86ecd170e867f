using System.Text;

namespace CodeLm.Server.Transport;

/// <summary>One `Content-Length`-framed message from the wire, or why none could be read.</summary>
public readonly record struct Frame(byte[]? Body, string? Error, bool EndOfStream);

/// <summary>
/// Reads LSP base-protocol frames (`Content-Length: N\r\n\r\n` + N bytes) and resynchronises after garbage instead of
/// giving up: StreamJsonRpc's own header parser disconnects on the first bad header, which would kill the server.
/// Header lines are bounded, bodies are bounded, and a header line with junk before `Content-Length:` is cut there.
/// </summary>
public sealed class LspFrameReader(Stream input, int maxContentLength = LspFrameReader.DefaultMaxContentLength)
{
    public const int DefaultMaxContentLength = 64 << 20;
    private const int MaxHeaderLine = 8192;
    private const string ContentLength = "Content-Length:";

    private byte[] buffer = new byte[64 * 1024];
    private int start, end;

    public async ValueTask<Frame> ReadAsync(CancellationToken ct)
    {
        int? length = null;
        string? error = null;
        var sawHeader = false;
        while (true)
        {
            var line = await ReadLineAsync(ct);
            if (line == null) return new Frame(null, null, EndOfStream: true);
            if (line.Length == 0)
            {
                if (!sawHeader) continue; // stray blank lines between messages
                break;
            }
            sawHeader = true;
            var at = line.IndexOf(ContentLength, StringComparison.OrdinalIgnoreCase);
            if (at > 0) line = line[at..]; // junk before a header: resynchronise on it
            if (!TryParseHeader(line, out var name, out var value)) { error = "malformed header line"; continue; }
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (int.TryParse(value, System.Globalization.NumberStyles.None, null, out var n)) { length = n; error = null; }
                else { length = null; error = $"invalid Content-Length '{Clip(value)}'"; }
            }
        }
        if (length == null) return new Frame(null, error ?? "missing Content-Length header", false);
        if (length > maxContentLength)
        {
            await SkipAsync(length.Value, ct);
            return new Frame(null, $"message of {length} bytes exceeds the {maxContentLength}-byte limit", false);
        }
        var body = new byte[length.Value];
        var filled = 0;
        while (filled < body.Length)
        {
            if (start == end && !await FillAsync(ct)) return new Frame(null, null, EndOfStream: true);
            var n = Math.Min(end - start, body.Length - filled);
            Buffer.BlockCopy(buffer, start, body, filled, n);
            start += n;
            filled += n;
        }
        return new Frame(body, null, false);
    }

    private static bool TryParseHeader(string line, out string name, out string value)
    {
        name = value = "";
        var colon = line.IndexOf(':');
        if (colon <= 0) return false;
        for (var i = 0; i < colon; i++)
            if (!(char.IsAsciiLetterOrDigit(line[i]) || line[i] == '-')) return false;
        name = line[..colon];
        value = line[(colon + 1)..].Trim();
        return true;
    }

    /// <summary>A line without its terminator (`\r\n` or `\n`), or null at end of stream. Over-long lines are cut short.</summary>
    private async ValueTask<string?> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var nl = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (nl >= 0)
            {
                var len = nl - start;
                if (len > 0 && buffer[nl - 1] == '\r') len--;
                var line = Encoding.Latin1.GetString(buffer, start, len);
                start = nl + 1;
                return line;
            }
            if (end - start >= MaxHeaderLine)
            {
                // No newline in a whole header line's worth of bytes: hand back garbage up to the next `Content-Length:`,
                // or all but a tail short enough to be the start of one.
                var found = Encoding.Latin1.GetString(buffer, start, end - start).IndexOf(ContentLength, StringComparison.OrdinalIgnoreCase);
                var take = found > 0 ? found : end - start - (ContentLength.Length - 1);
                var line = Encoding.Latin1.GetString(buffer, start, take);
                start += take;
                return line;
            }
            if (!await FillAsync(ct)) return null;
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        var n = await input.ReadAsync(buffer.AsMemory(end), ct);
        if (n == 0) return false;
        end += n;
        return true;
    }

    private async ValueTask SkipAsync(long count, CancellationToken ct)
    {
        while (count > 0)
        {
            if (start == end && !await FillAsync(ct)) return;
            var n = (int)Math.Min(end - start, count);
            start += n;
            count -= n;
        }
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
