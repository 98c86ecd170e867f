using System.Buffers.Binary;
using System.IO.Compression;

namespace CodeLm.Common.Charts;

/// <summary>
/// An RGB pixel canvas with lines, boxes and a 3×5 pixel font, written as a PNG: enough for the loss curve and the
/// pass@k plot. Self-contained (zlib from the BCL) so it renders on any OS without native graphics libraries.
/// </summary>
public sealed class PngCanvas(int width, int height)
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    private readonly byte[] _px = Filled(width * height * 3);

    public static readonly (byte R, byte G, byte B) Ink = (40, 40, 40), Grid = (225, 225, 225);

    private static byte[] Filled(int n)
    {
        var px = new byte[n];
        Array.Fill(px, (byte)255);
        return px;
    }

    public void Set(int x, int y, (byte R, byte G, byte B) c)
    {
        if (x < 0 || y < 0 || x >= Width || y >= Height) return;
        int o = (y * Width + x) * 3;
        (_px[o], _px[o + 1], _px[o + 2]) = (c.R, c.G, c.B);
    }

    public void Line(int x0, int y0, int x1, int y1, (byte, byte, byte) c)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            Set(x0, y0, c);
            if (x0 == x1 && y0 == y1) return;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    public void Polyline(IReadOnlyList<(int X, int Y)> pts, (byte, byte, byte) c)
    {
        for (int i = 1; i < pts.Count; i++) Line(pts[i - 1].X, pts[i - 1].Y, pts[i].X, pts[i].Y, c);
        if (pts.Count == 1) Box(pts[0].X - 1, pts[0].Y - 1, 3, 3, c);
    }

    public void Box(int x, int y, int w, int h, (byte, byte, byte) c)
    {
        for (int j = 0; j < h; j++) for (int i = 0; i < w; i++) Set(x + i, y + j, c);
    }

    // 3x5 glyphs, one row per 3-bit number, top row first: digits and the few letters the charts' labels use.
    private static readonly Dictionary<char, int[]> Glyphs = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7], ['4'] = [5, 5, 7, 1, 1],
        ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 2, 2, 2], ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7],
        ['.'] = [0, 0, 0, 0, 2], ['-'] = [0, 0, 7, 0, 0], ['@'] = [7, 5, 7, 4, 7], ['+'] = [0, 2, 7, 2, 0], ['#'] = [5, 7, 5, 7, 5],
        ['a'] = [0, 6, 3, 5, 7], ['c'] = [0, 7, 4, 4, 7], ['e'] = [7, 5, 7, 4, 7], ['g'] = [7, 5, 7, 1, 7], ['h'] = [4, 4, 7, 5, 5],
        ['i'] = [2, 0, 2, 2, 2], ['j'] = [1, 0, 1, 5, 7], ['k'] = [4, 5, 6, 5, 5], ['l'] = [6, 2, 2, 2, 7], ['m'] = [0, 7, 7, 5, 5],
        ['n'] = [0, 6, 5, 5, 5], ['o'] = [0, 7, 5, 5, 7], ['p'] = [7, 5, 7, 4, 4], ['r'] = [0, 7, 4, 4, 4], ['s'] = [0, 7, 6, 1, 7],
        ['t'] = [2, 7, 2, 2, 3], ['u'] = [0, 5, 5, 5, 7], ['v'] = [0, 5, 5, 5, 2], ['y'] = [5, 5, 7, 1, 7],
    };

    /// <summary>Draws text in the 3×5 font at twice the size; characters without a glyph (upper case included) leave a gap.</summary>
    public void Text(string text, int x, int y, (byte, byte, byte) c)
    {
        foreach (var ch in text.ToLowerInvariant())
        {
            if (Glyphs.TryGetValue(ch, out var rows))
                for (int r = 0; r < 5; r++)
                    for (int b = 0; b < 3; b++)
                        if ((rows[r] >> (2 - b) & 1) != 0) Box(x + b * 2, y + r * 2, 2, 2, c);
            x += 8;
        }
    }

    /// <summary>Writes the PNG atomically.</summary>
    public void Save(string path) => AtomicFile.Write(path, Encode);

    private void Encode(Stream s)
    {
        s.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), Height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        Chunk(s, "IHDR", ihdr);
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < Height; y++) { z.WriteByte(0); z.Write(_px, y * Width * 3, Width * 3); }
        Chunk(s, "IDAT", raw.ToArray());
        Chunk(s, "IEND", []);
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> b4 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b4, data.Length);
        s.Write(b4);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        uint crc = Crc32(Crc32(0xFFFFFFFF, typeBytes), data) ^ 0xFFFFFFFF;
        BinaryPrimitives.WriteUInt32BigEndian(b4, crc);
        s.Write(b4);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(uint crc, byte[] data)
    {
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
