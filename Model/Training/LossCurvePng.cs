using System.Buffers.Binary;
using System.IO.Compression;
using CodeLm.Common;
using CodeLm.Tokenizer;

namespace CodeLm.Model.Training;

/// <summary>
/// Draws the train (blue; pale raw steps under a moving average when there are many) and validation (orange) loss curves into an RGB PNG with axes, grid and tick labels.
/// Self-contained (zlib from the BCL) so it renders on any OS without native graphics libraries.
/// </summary>
public static class LossCurvePng
{
    private const int W = 800, H = 480, Left = 70, Right = 20, Top = 30, Bottom = 50;
    private static readonly (byte R, byte G, byte B) Train = (31, 119, 180), RawTrain = (190, 212, 235), Val = (255, 127, 14), Grid = (225, 225, 225), Ink = (40, 40, 40);

    public static void Write(string path, IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> val)
    {
        var px = new byte[W * H * 3];
        Array.Fill(px, (byte)255);
        var all = train.Concat(val).Where(p => double.IsFinite(p.Loss)).ToList();
        if (all.Count > 0)
        {
            double x0 = all.Min(p => p.Step), x1 = Math.Max(all.Max(p => p.Step), x0 + 1);
            double y0 = Math.Max(0, all.Min(p => p.Loss)), y1 = all.Max(p => p.Loss);
            if (y1 - y0 < 1e-6) y1 = y0 + 1;
            int X(double s) => Left + (int)Math.Round((s - x0) / (x1 - x0) * (W - Left - Right));
            int Y(double l) => H - Bottom - (int)Math.Round((l - y0) / (y1 - y0) * (H - Top - Bottom));

            for (int i = 0; i <= 5; i++)
            {
                double v = y0 + (y1 - y0) * i / 5;
                Line(px, Left, Y(v), W - Right, Y(v), Grid);
                Text(px, v.ToString(v >= 100 ? "F0" : "F2", System.Globalization.CultureInfo.InvariantCulture), 8, Y(v) - 5, Ink);
                double s = x0 + (x1 - x0) * i / 5;
                Text(px, ((long)Math.Round(s)).ToString(System.Globalization.CultureInfo.InvariantCulture), X(s) - 10, H - Bottom + 10, Ink);
            }
            Line(px, Left, Top, Left, H - Bottom, Ink);
            Line(px, Left, H - Bottom, W - Right, H - Bottom, Ink);
            var finite = train.Where(p => double.IsFinite(p.Loss)).ToList();
            if (finite.Count > 50)
            {
                // Raw per-step loss in a pale tint, with an exponential moving average over it.
                Polyline(px, finite.Select(p => (X(p.Step), Y(p.Loss))).ToList(), RawTrain);
                double ema = finite[0].Loss;
                Polyline(px, finite.Select(p => { ema = 0.95 * ema + 0.05 * p.Loss; return (X(p.Step), Y(ema)); }).ToList(), Train);
            }
            else Polyline(px, finite.Select(p => (X(p.Step), Y(p.Loss))).ToList(), Train);
            var v2 = val.Where(p => double.IsFinite(p.Loss)).Select(p => (X(p.Step), Y(p.Loss))).ToList();
            Polyline(px, v2, Val);
            foreach (var (x, y) in v2) Box(px, x - 2, y - 2, 5, 5, Val);
        }
        Text(px, "step", W / 2 - 16, H - 18, Ink);
        Text(px, "loss", 8, 8, Ink);
        Box(px, W - 170, 10, 14, 10, Train); Text(px, "train", W - 150, 8, Ink);
        Box(px, W - 90, 10, 14, 10, Val); Text(px, "val", W - 70, 8, Ink);
        AtomicFile.Write(path, s => Encode(s, px));
    }

    private static void Polyline(byte[] px, List<(int X, int Y)> pts, (byte, byte, byte) c)
    {
        for (int i = 1; i < pts.Count; i++) Line(px, pts[i - 1].X, pts[i - 1].Y, pts[i].X, pts[i].Y, c);
        if (pts.Count == 1) Box(px, pts[0].X - 1, pts[0].Y - 1, 3, 3, c);
    }

    private static void Set(byte[] px, int x, int y, (byte R, byte G, byte B) c)
    {
        if (x < 0 || y < 0 || x >= W || y >= H) return;
        int o = (y * W + x) * 3;
        (px[o], px[o + 1], px[o + 2]) = (c.R, c.G, c.B);
    }

    private static void Line(byte[] px, int x0, int y0, int x1, int y1, (byte, byte, byte) c)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            Set(px, x0, y0, c);
            if (x0 == x1 && y0 == y1) return;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    private static void Box(byte[] px, int x, int y, int w, int h, (byte, byte, byte) c)
    {
        for (int j = 0; j < h; j++) for (int i = 0; i < w; i++) Set(px, x + i, y + j, c);
    }

    // 3x5 glyphs, one row per 3-bit number, top row first: enough for numbers and the few labels drawn.
    private static readonly Dictionary<char, int[]> Glyphs = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7], ['4'] = [5, 5, 7, 1, 1],
        ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 2, 2, 2], ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7],
        ['.'] = [0, 0, 0, 0, 2], ['-'] = [0, 0, 7, 0, 0], ['a'] = [0, 6, 3, 5, 7], ['e'] = [7, 5, 7, 4, 7], ['i'] = [2, 0, 2, 2, 2],
        ['l'] = [6, 2, 2, 2, 7], ['n'] = [0, 6, 5, 5, 5], ['o'] = [0, 7, 5, 5, 7], ['p'] = [7, 5, 7, 4, 4], ['r'] = [0, 7, 4, 4, 4],
        ['s'] = [0, 7, 6, 1, 7], ['t'] = [2, 7, 2, 2, 3], ['v'] = [0, 5, 5, 5, 2],
    };

    private static void Text(byte[] px, string text, int x, int y, (byte, byte, byte) c)
    {
        foreach (var ch in text)
        {
            if (Glyphs.TryGetValue(ch, out var rows))
                for (int r = 0; r < 5; r++)
                    for (int b = 0; b < 3; b++)
                        if ((rows[r] >> (2 - b) & 1) != 0) Box(px, x + b * 2, y + r * 2, 2, 2, c);
            x += 8;
        }
    }

    private static void Encode(Stream s, byte[] px)
    {
        s.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, W);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), H);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        Chunk(s, "IHDR", ihdr);
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < H; y++) { z.WriteByte(0); z.Write(px, y * W * 3, W * 3); }
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
