using System.Buffers;
using System.Runtime.Intrinsics;

namespace CodeLm.DataPipeline.Dedup;

/// <summary>
/// MinHash signatures over word shingles: words are runs of letters, digits and '_' (ASCII case folded), each shingle is
/// <c>shingleSize</c> consecutive words hashed to 32 bits, and each of the <c>permutations</c> (a multiple of 8) is a
/// bijection of the 32-bit space: x → mix(a·x + b) with per-permutation odd multipliers, evaluated 8 lanes at a time.
/// </summary>
public sealed class MinHasher
{
    public int Permutations { get; }
    public int ShingleSize { get; }
    private readonly Vector256<uint>[] _a, _b, _c;

    public MinHasher(int permutations = 256, int shingleSize = 5, ulong seed = 0x9E3779B97F4A7C15)
    {
        if (permutations <= 0 || permutations % 8 != 0) throw new ArgumentException("permutations must be a positive multiple of 8");
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
        if (signature.Length != Permutations) throw new ArgumentException("signature length must equal the permutation count");
        var shingles = ArrayPool<uint>.Shared.Rent(Math.Max(16, text.Length / 2 + 1));
        try
        {
            int n = Shingles(text, shingles);
            signature.Fill(uint.MaxValue);
            if (n == 0) return 0;
            var xs = shingles.AsSpan(0, n);
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
            return n;
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(shingles);
        }
    }

    // Random odd constants that weight each word position of a shingle.
    private static readonly ulong[] PositionWeights =
        [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x2545F4914F6CDD1D, 0x94D049BB133111EB];

    /// <summary>Writes 32-bit hashes of the word shingles into <paramref name="output"/>; returns how many.</summary>
    private int Shingles(ReadOnlySpan<char> text, uint[] output)
    {
        int k = ShingleSize;
        Span<ulong> ring = stackalloc ulong[k];
        int words = 0, n = 0;
        int i = 0;
        while (i < text.Length)
        {
            char ch = text[i];
            if (!IsWordChar(ch)) { i++; continue; }
            ulong h = 0xCBF29CE484222325;
            while (i < text.Length && IsWordChar(ch = text[i]))
            {
                if (char.IsAsciiLetterUpper(ch)) ch = (char)(ch | 0x20);
                h = (h ^ ch) * 0x100000001B3;
                i++;
            }
            ring[words % k] = h;
            words++;
            if (words >= k) output[n++] = Combine(ring, words, k);
        }
        if (words > 0 && words < k) output[n++] = Combine(ring, words, words);
        return n;
    }

    private static uint Combine(ReadOnlySpan<ulong> ring, int words, int count)
    {
        ulong acc = (ulong)count;
        int k = ring.Length;
        for (int j = 0; j < count; j++)
            acc += ring[(words - count + j) % k] * PositionWeights[j % PositionWeights.Length] + (ulong)j;
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
