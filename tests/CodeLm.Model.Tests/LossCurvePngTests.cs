using CodeLm.Model.Training;
using CodeLm.Tests;

namespace CodeLm.Model.Tests;

public class LossCurvePngTests
{
    [Fact]
    public void Loss_curve_is_a_valid_png_that_an_independent_decoder_reads()
    {
        using var tmp = new TempDir();
        var train = Enumerable.Range(1, 300).Select(i => (i, 8.0 * Math.Exp(-i / 80.0) + 2 + 0.3 * Math.Sin(i))).ToList();
        var val = Enumerable.Range(1, 6).Select(i => (i * 50, 8.0 * Math.Exp(-i * 50 / 80.0) + 2.4)).ToList();
        var path = tmp.File("loss.png");
        LossCurvePng.Write(path, train, val);

        // Python's zlib + struct: check every chunk CRC, decompress the pixels, and count the curve colours.
        const string check = """
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, chunks = 8, b'', []
while pos < len(data):
    n, = struct.unpack('>I', data[pos:pos+4]); kind = data[pos+4:pos+8]; body = data[pos+8:pos+8+n]
    assert struct.unpack('>I', data[pos+8+n:pos+12+n])[0] == zlib.crc32(kind + body), kind
    chunks.append(kind); idat += body if kind == b'IDAT' else b''; pos += 12 + n
w, h, depth, ctype = struct.unpack('>IIBB', data[16:26])
raw = zlib.decompress(idat)
assert len(raw) == h * (1 + 3 * w)
rows = [raw[y*(1+3*w)+1:(y+1)*(1+3*w)] for y in range(h)]
blue = sum(r.count(bytes([31,119,180])) for r in rows); orange = sum(r.count(bytes([255,127,14])) for r in rows)
print(w, h, chunks[0].decode(), chunks[-1].decode(), blue > 500, orange > 100)
""";
        File.WriteAllText(tmp.File("check.py"), check);
        var r = Proc.Run("/usr/bin/python3", [tmp.File("check.py"), path]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("800 480 IHDR IEND True True", r.Stdout.Trim());
    }
}
