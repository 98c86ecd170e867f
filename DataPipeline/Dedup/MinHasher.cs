using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CodeLm.DataPipeline.Dedup;

/// <summary>
/// MinHash signatures over word shingles: words are runs of letters, digits and '_' (ASCII case folded), each shingle is
/// <c>shingleSize</c> consecutive words hashed to 32 bits, and each of the <c>permutations</c> (a multiple of 16) is a
/// bijection of the 32-bit space: x → mix(a·x + b) with per-permutation odd multipliers, evaluated 16 lanes at a time with AVX-512, else 8.
/// </summary>
public sealed class MinHasher
{
    public int Permutations { get; }
    public int ShingleSize { get; }
    private readonly Vector256<uint>[] _a, _b, _c;

    public MinHasher(int permutations = 256, int shingleSize = 5, ulong seed = 0x9E3779B97F4A7C15)
    {
        if (permutations <= 0 || permutations % 16 != 0) throw new ArgumentException("permutations must be a positive multiple of 16");
        if (shingleSize < 1) throw new ArgumentException("shingle size must be at least 1");
        Permutations = permutations;
        ShingleSize = shingleSize;
        int blocks = permutations / 8;
        _a = new Vector256<uint>[blocks]; _b = new Vector256<uint>[blocks]; _c = new Vector256<uint>[blocks];
        ulong state = seed;
        var a = new uint[8]; var b = new uint[8]; var c = new uint[8];
        for (int k = 0; k < blocks; k++)
        {
            for (int l = 0; l < 8; l++)
            {
                a[l] = (uint)SplitMix(ref state) | 1;
                b[l] = (uint)SplitMix(ref state);
                c[l] = (uint)SplitMix(ref state) | 1;
            }
            _a[k] = Vector256.Create(a); _b[k] = Vector256.Create(b); _c[k] = Vector256.Create(c);
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Fills <paramref name="signature"/> (length <see cref="Permutations"/>) and returns the number of shingles (0: no words).</summary>
    public int Compute(ReadOnlySpan<char> text, Span<uint> signature)
    {
        var shingles = ArrayPool<uint>.Shared.Rent(ScratchLength(text.Length));
        try { return Compute(text, signature, shingles); }
        finally { ArrayPool<uint>.Shared.Return(shingles); }
    }

    /// <summary>How long the scratch of <see cref="Compute(ReadOnlySpan{char}, Span{uint}, Span{uint})"/> must be for a text this long.</summary>
    public static int ScratchLength(int textLength) => Math.Max(16, textLength / 2 + 1);

    /// <param name="scratch">At least <see cref="ScratchLength"/> long.</param>
    public int Compute(ReadOnlySpan<char> text, Span<uint> signature, Span<uint> scratch)
    {
        if (signature.Length != Permutations) throw new ArgumentException("signature length must equal the permutation count");
        int n = Shingles(text, scratch);
        signature.Fill(uint.MaxValue);
        if (n == 0) return 0;
        var xs = scratch[..n];
        if (Vector512.IsHardwareAccelerated) Permute512(xs, signature);
        else Permute256(xs, signature);
        return n;
    }

    private void Permute256(ReadOnlySpan<uint> xs, Span<uint> signature)
    {
        for (int k = 0; k < _a.Length; k++)
        {
            var a = _a[k]; var b = _b[k]; var c = _c[k];
            var min = Vector256<uint>.AllBitsSet;
            foreach (var x in xs)
            {
                var v = a * Vector256.Create(x) + b;
                v ^= Vector256.ShiftRightLogical(v, 15);
                v *= c;
                v ^= Vector256.ShiftRightLogical(v, 13);
                min = Vector256.Min(min, v);
            }
            min.CopyTo(signature.Slice(k * 8, 8));
        }
    }

    /// <summary>The same permutations, 16 lanes at a time (AVX-512); results are identical to <see cref="Permute256"/>.</summary>
    private void Permute512(ReadOnlySpan<uint> xs, Span<uint> signature)
    {
        for (int k = 0; k + 1 < _a.Length; k += 2)
        {
            var a = Vector512.Create(_a[k], _a[k + 1]); var b = Vector512.Create(_b[k], _b[k + 1]); var c = Vector512.Create(_c[k], _c[k + 1]);
            var min = Vector512<uint>.AllBitsSet;
            foreach (var x in xs)
            {
                var v = a * Vector512.Create(x) + b;
                v ^= Vector512.ShiftRightLogical(v, 15);
                v *= c;
                v ^= Vector512.ShiftRightLogical(v, 13);
                min = Vector512.Min(min, v);
            }
            min.CopyTo(signature.Slice(k * 8, 16));
        }
    }

    // Random odd constants that weight each word position of a shingle.
    private static readonly ulong[] PositionWeights =
        [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x2545F4914F6CDD1D, 0x94D049BB133111EB];

    /// <summary>Writes 32-bit hashes of the word shingles into <paramref name="output"/>; returns how many.</summary>
    private static readonly SearchValues<char> AsciiWordChars = SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
    private static readonly SearchValues<char> AsciiNonWordChars = SearchValues.Create(
        Enumerable.Range(0, 128).Select(c => (char)c).Where(c => !char.IsAsciiLetterOrDigit(c) && c != '_').ToArray());

    private int Shingles(ReadOnlySpan<char> text, Span<uint> output)
    {
        int k = ShingleSize;
        // The last k word hashes, oldest first.
        Span<ulong> window = stackalloc ulong[k];
        int words = 0, n = 0;
        int i = 0;
        while (i < text.Length)
        {
            // Skip separators (vectorized); a non-ASCII character that is no letter or digit is a separator too.
            int skip = text[i..].IndexOfAnyExcept(AsciiNonWordChars);
            if (skip < 0) break;
            i += skip;
            if (!IsWordChar(text[i])) { i++; continue; }
            int start = i;
            while (true)
            {
                int run = text[i..].IndexOfAnyExcept(AsciiWordChars);
                if (run < 0) { i = text.Length; break; }
                i += run;
                if (text[i] < 128 || !char.IsLetterOrDigit(text[i])) break;
                i++;
            }
            ulong h = HashWord(text[start..i]);
            if (words < k) window[words] = h;
            else { window[1..].CopyTo(window); window[k - 1] = h; }
            words++;
            if (words >= k) output[n++] = Combine(window);
        }
        if (words > 0 && words < k) output[n++] = Combine(window[..words]);
        return n;
    }

    /// <summary>Hashes a word four UTF-16 units at a time; OR-ing 0x20 folds ASCII case (digits and '_' stay distinct).</summary>
    private static ulong HashWord(ReadOnlySpan<char> word)
    {
        ulong h = 0xCBF29CE484222325 ^ (ulong)word.Length;
        var quads = MemoryMarshal.Cast<char, ulong>(word);
        foreach (var q in quads)
        {
            h = (h ^ (q | 0x0020_0020_0020_0020UL)) * 0x9FB21C651E98DF25;
            h ^= h >> 32;
        }
        for (int j = quads.Length * 4; j < word.Length; j++)
            h = (h ^ (ulong)(word[j] | 0x20)) * 0x100000001B3;
        return h;
    }

    private static uint Combine(ReadOnlySpan<ulong> window)
    {
        ulong acc = (ulong)window.Length;
        for (int j = 0; j < window.Length; j++)
            acc += window[j] * PositionWeights[j & 7] + (ulong)j;
        acc ^= acc >> 33; acc *= 0xFF51AFD7ED558CCD; acc ^= acc >> 33; acc *= 0xC4CEB9FE1A85EC53; acc ^= acc >> 33;
        return (uint)acc;
    }

    private static bool IsWordChar(char c) => c < 128 ? char.IsAsciiLetterOrDigit(c) || c == '_' : char.IsLetterOrDigit(c);

    /// <summary>The fraction of equal positions: an unbiased estimate of the Jaccard similarity of the shingle sets.</summary>
    public static double EstimateJaccard(ReadOnlySpan<uint> x, ReadOnlySpan<uint> y)
    {
        int same = 0;
        for (int i = 0; i < x.Length; i++) if (x[i] == y[i]) same++;
        return (double)same / x.Length;
    }
}
