using CodeLm.Common;
using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace CodeLm.Tokenizer;

/// <summary>
/// Byte-level BPE tokenizer loaded from a directory written by <see cref="TokenizerFiles"/>.
/// Encoding: <see cref="CodePreTokenizer"/> pieces → UTF-8 bytes → lowest-rank-first merges (the same result as HF
/// tokenizers' BPE with this tokenizer.json). Text is treated as UTF-8: a lone surrogate becomes U+FFFD, so
/// <c>Decode(Encode(x)) == x</c> for every well-formed string and equals x with lone surrogates replaced otherwise.
/// Special-token strings in text are encoded as plain text, never as specials. Thread-safe.
/// </summary>
public sealed class CodeTokenizer
{
    private const int MaxCachedPieceLength = 48, MaxCacheEntries = 1 << 20;

    private readonly byte[][] _tokenBytes;                 // id → bytes it decodes to
    private readonly Dictionary<long, int> _mergeRank;    // (left id, right id) → rank
    private readonly int[] _mergeResult;                  // rank → merged id
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cacheEntries; // ConcurrentDictionary.Count takes every lock; count additions ourselves

    public int VocabSize => _tokenBytes.Length;
    public int EndOfText => 0;
    public int FimPrefix => 1;
    public int FimMiddle => 2;
    public int FimSuffix => 3;
    public int FimPad => 4;
    public FimSentinels Fim => new(FimPrefix, FimMiddle, FimSuffix);

    /// <summary>sha256 (lower-case hex) of tokenizer.json's bytes: shards and checkpoints record it.</summary>
    public string Hash { get; }

    /// <summary>The directory it was loaded from.</summary>
    public string Directory { get; }

    private CodeTokenizer(string directory, string hash, string[] tokens, (string Left, string Right)[] merges)
    {
        Directory = directory;
        Hash = hash;
        _tokenBytes = new byte[tokens.Length][];
        var ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var id = 0; id < tokens.Length; id++)
        {
            _tokenBytes[id] = id < SpecialTokens.All.Count ? Encoding.UTF8.GetBytes(tokens[id]) : ByteLevel.Decode(tokens[id]);
            ids[tokens[id]] = id;
        }
        for (var b = 0; b < 256; b++)
            if (!ids.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out var id) || id != SpecialTokens.FirstByteId + b)
                throw new InvalidDataException($"tokenizer.json: byte 0x{b:X2} must be token {SpecialTokens.FirstByteId + b}.");

        _mergeRank = new Dictionary<long, int>(merges.Length);
        _mergeResult = new int[merges.Length];
        for (var r = 0; r < merges.Length; r++)
        {
            var (l, rt) = merges[r];
            if (!ids.TryGetValue(l, out var a) || !ids.TryGetValue(rt, out var b) || !ids.TryGetValue(l + rt, out var m))
                throw new InvalidDataException($"tokenizer.json: merge {r} '{l} {rt}' uses a token that is not in the vocabulary.");
            _mergeRank.TryAdd(Key(a, b), r);
            _mergeResult[r] = m;
        }
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Loads <c>tokenizer.json</c> from a tokenizer directory (clear errors on missing or foreign files).</summary>
    public static CodeTokenizer Load(string directory)
    {
        var path = Path.Combine(directory, TokenizerFiles.TokenizerJson);
        var (tokens, merges) = TokenizerFiles.Read(path);
        return new CodeTokenizer(Path.GetFullPath(directory), TokenizerFiles.Sha256File(path), tokens, merges);
    }

    /// <summary>Token ids of plain text (no specials are ever produced).</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids);
        return ids.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids)
    {
        byte[]? rented = null;
        Span<byte> buffer = stackalloc byte[512];
        try
        {
            for (var i = 0; i < text.Length;)
            {
                var end = CodePreTokenizer.NextPieceEnd(text, i);
                var piece = text[i..end];
                i = end;
                if (piece.Length <= MaxCachedPieceLength && _cacheBySpan.TryGetValue(piece, out var cached))
                {
                    ids.AddRange(cached);
                    continue;
                }
                var max = Encoding.UTF8.GetMaxByteCount(piece.Length);
                if (max > buffer.Length)
                {
                    if (rented != null) ArrayPool<byte>.Shared.Return(rented);
                    rented = ArrayPool<byte>.Shared.Rent(max);
                    buffer = rented;
                }
                var n = Encoding.UTF8.GetBytes(piece, buffer);
                var start = ids.Count;
                MergeInto(buffer[..n], ids);
                if (piece.Length <= MaxCachedPieceLength && Volatile.Read(ref _cacheEntries) < MaxCacheEntries
                    && _cacheBySpan.TryAdd(piece, CollectionsMarshal.AsSpan(ids)[start..].ToArray()))
                    Interlocked.Increment(ref _cacheEntries);
            }
        }
        finally
        {
            if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Text of ids; specials decode to their strings; invalid UTF-8 becomes U+FFFD.</summary>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    /// <summary>Raw UTF-8 bytes of ids (a token may end in the middle of a character: use for streaming).</summary>
    public byte[] DecodeBytes(ReadOnlySpan<int> ids)
    {
        var total = 0;
        foreach (var id in ids) total += TokenBytes(id).Length;
        var bytes = new byte[total];
        var at = 0;
        foreach (var id in ids)
        {
            var t = TokenBytes(id);
            t.CopyTo(bytes, at);
            at += t.Length;
        }
        return bytes;
    }

    /// <summary>The bytes one token stands for.</summary>
    public ReadOnlySpan<byte> TokenBytesOf(int id) => TokenBytes(id);

    private byte[] TokenBytes(int id) => (uint)id < (uint)_tokenBytes.Length
        ? _tokenBytes[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary (0..{_tokenBytes.Length - 1})");

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    // Repeatedly merges every occurrence (left to right) of the lowest-rank pair present: the same result as HF's
    // leftmost-lowest-rank-first heap, since a pair made from a new token always has a higher rank than that token.
    private void MergeInto(ReadOnlySpan<byte> bytes, List<int> ids)
    {
        if (bytes.Length == 1) { ids.Add(SpecialTokens.FirstByteId + bytes[0]); return; }
        int[]? rented = null;
        var sym = bytes.Length <= 256 ? stackalloc int[bytes.Length] : (rented = ArrayPool<int>.Shared.Rent(bytes.Length));
        var count = bytes.Length;
        for (var i = 0; i < count; i++) sym[i] = SpecialTokens.FirstByteId + bytes[i];
        while (count > 1)
        {
            int best = int.MaxValue, at = -1;
            for (var i = 0; i + 1 < count; i++)
                if (_mergeRank.TryGetValue(Key(sym[i], sym[i + 1]), out var r) && r < best) { best = r; at = i; }
            if (at < 0) break;
            int a = sym[at], b = sym[at + 1], m = _mergeResult[best];
            var w = at;
            for (var i = at; i < count; i++)
            {
                if (i + 1 < count && sym[i] == a && sym[i + 1] == b) { sym[w++] = m; i++; }
                else sym[w++] = sym[i];
            }
            count = w;
        }
        for (var i = 0; i < count; i++) ids.Add(sym[i]);
        if (rented != null) ArrayPool<int>.Shared.Return(rented);
    }
}
