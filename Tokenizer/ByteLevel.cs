namespace CodeLm.Tokenizer;

/// <summary>
/// GPT-2's reversible byte → printable-char mapping: bytes that are already visible Latin-1 keep their code point,
/// the others (controls, space, 0x7F-0xA0, 0xAD) are shifted to U+0100 and up, so every vocab entry is a plain string
/// and HF's ByteLevel pre-tokenizer and decoder round-trip our vocab.
/// </summary>
public static class ByteLevel
{
    /// <summary>The printable char that stands for each byte.</summary>
    public static IReadOnlyList<char> ByteToChar => Forward;

    private static readonly char[] Forward = BuildForward();
    private static readonly Dictionary<char, byte> Backward = BuildBackward();

    private static char[] BuildForward()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var visible = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = visible ? (char)b : (char)next++;
        }
        return map;
    }

    private static Dictionary<char, byte> BuildBackward()
    {
        var d = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++) d[Forward[b]] = (byte)b;
        return d;
    }

    /// <summary>The byte-level string for raw bytes (one char per byte).</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, src) =>
        {
            for (var i = 0; i < src.Length; i++) span[i] = Forward[src[i]];
        });
    }

    /// <summary>The bytes a byte-level string stands for; false when a char is outside the alphabet.</summary>
    public static bool TryDecode(string symbols, out byte[] bytes)
    {
        bytes = new byte[symbols.Length];
        for (var i = 0; i < symbols.Length; i++)
            if (!Backward.TryGetValue(symbols[i], out bytes[i])) return false;
        return true;
    }

    /// <summary>The bytes a byte-level string stands for; throws on a char outside the alphabet.</summary>
    public static byte[] Decode(string symbols)
    {
        var bytes = new byte[symbols.Length];
        for (var i = 0; i < symbols.Length; i++)
            bytes[i] = Backward.TryGetValue(symbols[i], out var b)
                ? b
                : throw new InvalidDataException($"'{symbols}' is not a byte-level token (char U+{(int)symbols[i]:X4} has no byte).");
        return bytes;
    }
}
