using CodeLm.Common;
using CodeLm.Tokenizer.Hf;
using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace CodeLm.Tokenizer;

/// <summary>
/// Byte-level BPE tokenizer loaded from a directory: CodeLm's own (written by <see cref="TokenizerFiles"/>) or an open
/// code model's Hugging Face <c>tokenizer.json</c> (GPT-2/codeparrot, StarCoder/StarCoder2/SantaCoder, Qwen2.5-Coder,
/// DeepSeek-Coder and other byte-level BPE files; anything else fails with <see cref="UnsupportedTokenizerException"/>).
/// Either way the ids equal HF tokenizers' for the same tokenizer.json, with one deliberate difference for CodeLm's own
/// files:
/// <list type="bullet">
/// <item>CodeLm's own: pieces of its <see cref="SplitRule"/> (<see cref="CodePreTokenizer"/> or Qwen2's split) → UTF-8 bytes → lowest-rank-first merges. Special-token
/// strings in text are encoded as plain text, never as specials (specials come only from ids, so no document can forge
/// a FIM prompt). HF tokenizers, given the same file, would match them.</item>
/// <item>A model's tokenizer.json: its added tokens are matched in text first (so "&lt;|fim_prefix|&gt;" in text is
/// that token, as the model saw in training), then its normalizer, its pre-tokenizers and its BPE run as HF runs them.
/// Encode never adds the post-processor's tokens: a model that wants a begin-of-text id first says so in
/// <see cref="BeginOfText"/>, for the caller to prepend.</item>
/// </list>
/// Text is treated as UTF-8: a lone surrogate becomes U+FFFD, so <c>Decode(Encode(x)) == x</c> for every well-formed
/// string (for a model's tokenizer: unless its added tokens or normalizer change text, as HF's would).
/// Thread-safe.
/// </summary>
public sealed class CodeTokenizer
{
    private const int MaxCachedPieceLength = 48, MaxCacheEntries = 1 << 20;

    private readonly BpeTables _bpe;
    private readonly byte[][] _tokenBytes;                 // id → bytes it decodes to
    private readonly int[] _byteIds;                       // byte → id of its token (-1: none)
    private readonly Dictionary<long, int> _mergeRank;    // (left id, right id) → rank
    private readonly int[] _mergeResult;                  // rank → merged id
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>>? _wholePieces;
    private readonly HfSegmenter? _hf;                    // null: CodeLm's own layout, split by _split
    private readonly SplitRule _split;
    private readonly ModelSpecials _specials;
    private readonly HashSet<int> _specialIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cacheEntries; // ConcurrentDictionary.Count takes every lock; count additions ourselves

    /// <summary>One more than the largest id (ids no token has decode to nothing).</summary>
    public int VocabSize => _tokenBytes.Length;

    /// <summary>Whether the tokenizer names an end-of-text token (<see cref="EndOfText"/> throws otherwise).</summary>
    public bool HasEndOfText => _specials.EndOfText != null;

    /// <summary>The model's end-of-text (eos) id.</summary>
    public int EndOfText => _specials.EndOfText
        ?? throw new InvalidOperationException($"The tokenizer in '{Directory}' has no end-of-text token (no eos_token in tokenizer_config.json, no eos_token_id in config.json, no <|endoftext|>).");

    /// <summary>The id to put before a document, when the model's tokenizer adds one (Encode never does); null otherwise.</summary>
    public int? BeginOfText => _specials.BeginOfText;

    /// <summary>Whether the model has fill-in-the-middle sentinels (<see cref="Fim"/> throws otherwise).</summary>
    public bool HasFim => _specials.Fim != null;

    public FimSentinels Fim => _specials.Fim
        ?? throw new InvalidOperationException($"The tokenizer in '{Directory}' has no fill-in-the-middle tokens (none of the StarCoder, Qwen2.5-Coder or DeepSeek-Coder sentinels); check HasFim first.");

    public int FimPrefix => Fim.Prefix;
    public int FimMiddle => Fim.Middle;
    public int FimSuffix => Fim.Suffix;

    /// <summary>Whether the model has a FIM padding token (<see cref="FimPad"/> throws otherwise; DeepSeek-Coder has none).</summary>
    public bool HasFimPad => _specials.FimPad != null;

    /// <summary>The FIM padding id (StarCoder's &lt;fim_pad&gt;, Qwen's &lt;|fim_pad|&gt;); throws when the model has none.</summary>
    public int FimPad => _specials.FimPad
        ?? throw new InvalidOperationException($"The tokenizer in '{Directory}' has no FIM padding token.");

    /// <summary>The repository-level file separator (Qwen2.5-Coder's &lt;|file_sep|&gt;, StarCoder2's &lt;file_sep&gt;), if any.</summary>
    public int? FileSeparator => _specials.FileSeparator;

    /// <summary>The repository-name marker (&lt;|repo_name|&gt;, &lt;repo_name&gt;, &lt;reponame&gt;), if any.</summary>
    public int? RepoName => _specials.RepoName;

    /// <summary>How the model was trained to read other files of the repository before the one being written.</summary>
    public RepoLayout RepoLayout => _specials.Repo;

    /// <summary>Whether an id is a special token (CodeLm's five; a model's added tokens marked special).</summary>
    public bool IsSpecial(int id) => _specialIds.Contains(id);

    /// <summary>sha256 (lower-case hex) of tokenizer.json's bytes: shards and checkpoints record it.</summary>
    public string Hash { get; }

    /// <summary>The directory it was loaded from.</summary>
    public string Directory { get; }

    /// <summary>CodeLm's own files, or a pretrained model's tokenizer.json.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>
    /// The files that make up this tokenizer, as found in <see cref="Directory"/>: CodeLm's three files (plus its
    /// tokenizer_config.json), or a model folder's tokenizer files (never its weights or config.json).
    /// </summary>
    public IEnumerable<string> Files => (Kind == TokenizerKind.CodeLm ? TokenizerFiles.AllFiles : TokenizerFiles.ModelTokenizerFiles)
        .Where(name => File.Exists(Path.Combine(Directory, name)));

    private CodeTokenizer(string directory, string hash, TokenizerKind kind, BpeTables bpe, HfSegmenter? hf, ModelSpecials specials, IEnumerable<int> specialIds,
        SplitRule split = SplitRule.CodeLm)
    {
        _split = split;
        Directory = directory;
        Hash = hash;
        Kind = kind;
        _bpe = bpe;
        _tokenBytes = bpe.TokenBytes;
        _byteIds = bpe.ByteIds;
        _mergeRank = bpe.MergeRank;
        _mergeResult = bpe.MergeResult;
        _wholePieces = bpe.WholePieces?.GetAlternateLookup<ReadOnlySpan<char>>();
        _hf = hf;
        _specials = specials;
        _specialIds = [.. specialIds];
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>
    /// Loads <c>tokenizer.json</c> from a tokenizer directory: CodeLm's own, or a model's from Hugging Face (with its
    /// tokenizer_config.json, config.json and generation_config.json beside it for the special ids). Clear errors on
    /// missing, malformed or unsupported files.
    /// </summary>
    public static CodeTokenizer Load(string directory)
    {
        var path = Path.Combine(directory, TokenizerFiles.TokenizerJson);
        if (!File.Exists(path) && File.Exists(Path.Combine(directory, "tokenizer.model")))
            throw new UnsupportedTokenizerException(Path.GetFullPath(directory), "tokenizer.json", "missing (only a SentencePiece tokenizer.model)",
                UnsupportedTokenizerException.SupportedSummary);
        if (!File.Exists(path)) throw TokenizerNotFoundException.For(directory);
        var root = TokenizerFiles.ParseJson(path);
        var full = Path.GetFullPath(directory);
        var hash = TokenizerFiles.Sha256File(path);
        if (TokenizerFiles.SplitRuleOf(root) is { } split)
        {
            var (tokens, merges) = TokenizerFiles.Read(root, path);
            return new CodeTokenizer(full, hash, TokenizerKind.CodeLm, BpeTables.FromCodeLm(tokens, merges), null, ModelSpecials.CodeLm,
                Enumerable.Range(0, SpecialTokens.All.Count), split);
        }

        var json = HfTokenizerJson.Read(root, path);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in json.AddedTokens) added.TryAdd(t.Content, t.Id);
        int? IdOf(string text) => added.TryGetValue(text, out var id) ? id : json.Vocab.TryGetValue(text, out id) ? id : null;
        var specials = ModelSpecials.Resolve(directory, IdOf, json.PostProcessorPrefix);
        return new CodeTokenizer(full, hash, TokenizerKind.HuggingFace, BpeTables.FromHf(json, path), new HfSegmenter(json), specials,
            json.AddedTokens.Where(t => t.Special).Select(t => t.Id));
    }

    /// <summary>Token ids of text (CodeLm's own tokenizers never produce specials from text; see the class comment).</summary>
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
            if (_hf == null)
            {
                // The regex rule needs well-formed text (lone surrogates as U+FFFD, as HF and llama.cpp see them);
                // CodeLm's scanner reads them so by itself.
                var whole = _split == SplitRule.CodeLm ? text : WellFormed(text).AsSpan();
                foreach (var piece in SplitRules.Split(_split, whole)) EncodePiece(whole[piece], ids, ref buffer, ref rented);
                return;
            }
            var segments = new List<Segment>();
            _hf.Segment(WellFormed(text), segments);
            foreach (var segment in segments)
                if (segment.IsToken) ids.Add(segment.Id);
                else EncodePiece(segment.Text.Span, ids, ref buffer, ref rented);
        }
        finally
        {
            if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> ids, ref Span<byte> buffer, ref byte[]? rented)
    {
        if (piece.Length <= MaxCachedPieceLength && _cacheBySpan.TryGetValue(piece, out var cached))
        {
            ids.AddRange(cached);
            return;
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
        if (!TryWholePiece(buffer[..n], ids)) MergeInto(buffer[..n], ids);
        if (piece.Length <= MaxCachedPieceLength && Volatile.Read(ref _cacheEntries) < MaxCacheEntries
            && _cacheBySpan.TryAdd(piece, CollectionsMarshal.AsSpan(ids)[start..].ToArray()))
            Interlocked.Increment(ref _cacheEntries);
    }

    // ignore_merges (Llama-3 style): a piece that is itself a vocabulary entry is that token, merges or not.
    private bool TryWholePiece(ReadOnlySpan<byte> bytes, List<int> ids)
    {
        if (_wholePieces is not { } whole) return false;
        char[]? rented = null;
        var chars = bytes.Length <= 256 ? stackalloc char[bytes.Length] : (rented = ArrayPool<char>.Shared.Rent(bytes.Length));
        for (var i = 0; i < bytes.Length; i++) chars[i] = ByteLevel.ByteToChar[bytes[i]];
        var found = whole.TryGetValue(chars[..bytes.Length], out var id);
        if (rented != null) ArrayPool<char>.Shared.Return(rented);
        if (found) ids.Add(id);
        return found;
    }

    // Lone surrogates become U+FFFD here, as UTF-8 encoding would make them, so regexes and added tokens see the
    // same text HF sees.
    internal static string WellFormed(string text) => text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? text : WellFormed(text.AsSpan());

    private static string WellFormed(ReadOnlySpan<char> text)
    {
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0) return text.ToString();
        var chars = text.ToArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
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

    // Repeatedly merges every occurrence (left to right) of the lowest-rank pair present: the same result as HF's
    // leftmost-lowest-rank-first heap, since a pair made from a new token always has a higher rank than that token.
    // Files where that does not hold (BpeTables.OneMergeAtATime) merge only the leftmost occurrence per pass.
    private void MergeInto(ReadOnlySpan<byte> bytes, List<int> ids)
    {
        if (bytes.Length == 1 && _byteIds[bytes[0]] >= 0) { ids.Add(_byteIds[bytes[0]]); return; }
        int[]? rented = null;
        var sym = bytes.Length <= 256 ? stackalloc int[bytes.Length] : (rented = ArrayPool<int>.Shared.Rent(bytes.Length));
        var count = 0;
        var afterUnk = false;
        foreach (var b in bytes)
        {
            var id = _byteIds[b];
            if (id >= 0) { sym[count++] = id; afterUnk = false; }
            else if (_bpe.Unk >= 0 && !(afterUnk && _bpe.FuseUnk)) { sym[count++] = _bpe.Unk; afterUnk = true; }
        }
        var oneAtATime = _bpe.OneMergeAtATime;
        while (count > 1)
        {
            int best = int.MaxValue, at = -1;
            for (var i = 0; i + 1 < count; i++)
                if (_mergeRank.TryGetValue(BpeTables.Key(sym[i], sym[i + 1]), out var r) && r < best) { best = r; at = i; }
            if (at < 0) break;
            int a = sym[at], b = sym[at + 1], m = _mergeResult[best];
            var w = at;
            for (var i = at; i < count; i++)
            {
                if (i + 1 < count && sym[i] == a && sym[i + 1] == b && (!oneAtATime || i == at)) { sym[w++] = m; i++; }
                else sym[w++] = sym[i];
            }
            count = w;
        }
        for (var i = 0; i < count; i++) ids.Add(sym[i]);
        if (rented != null) ArrayPool<int>.Shared.Return(rented);
    }
}
