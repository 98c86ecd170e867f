using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace CodeLm.DataPipeline.Dedup;

/// <summary>Content hash for exact dedup: SHA-256 (first 128 bits) of the text with every whitespace run collapsed to one space and trimmed.</summary>
public static class ExactHash
{
    public static UInt128 Compute(ReadOnlySpan<char> text)
    {
        var buf = ArrayPool<char>.Shared.Rent(Math.Max(1, text.Length));
        try { return Compute(text, buf); }
        finally { ArrayPool<char>.Shared.Return(buf); }
    }

    /// <param name="scratch">At least as long as <paramref name="text"/>.</param>
    public static UInt128 Compute(ReadOnlySpan<char> text, Span<char> scratch)
    {
        int n = 0;
        bool space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c)) { space = n > 0; continue; }
            if (space) { scratch[n++] = ' '; space = false; }
            scratch[n++] = c;
        }
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(scratch[..n]), digest);
        return MemoryMarshal.Read<UInt128>(digest);
    }
}
