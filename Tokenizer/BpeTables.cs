using System.Text;
using CodeLm.Tokenizer.Hf;

namespace CodeLm.Tokenizer;

/// <summary>
/// The lookups <see cref="CodeTokenizer"/>'s merge loop runs on, whatever the file's id layout: bytes each id decodes
/// to, the token of each byte, merge rank by (left id, right id) and the id each rank makes.
/// </summary>
internal sealed record BpeTables
{
    /// <summary>id → the bytes it decodes to (empty for an id no token has).</summary>
    public required byte[][] TokenBytes { get; init; }

    /// <summary>byte → the id of its single-byte token; -1 when the vocabulary lacks it (HF drops such bytes, or uses unk).</summary>
    public required int[] ByteIds { get; init; }

    public required Dictionary<long, int> MergeRank { get; init; }
    public required int[] MergeResult { get; init; }

    /// <summary>
    /// True when some merge uses a token at a lower rank than a merge that makes it: then merging every occurrence of
    /// the best pair per pass could differ from HF's one-pair-at-a-time order, so the loop does one pair per pass.
    /// </summary>
    public bool OneMergeAtATime { get; init; }

    public int Unk { get; init; } = -1;
    public bool FuseUnk { get; init; }

    /// <summary>For ignore_merges: whole pieces found in the vocabulary (by byte-level string) skip merging.</summary>
    public Dictionary<string, int>? WholePieces { get; init; }

    public static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>CodeLm's layout: specials 0..4, byte b at <see cref="SpecialTokens.FirstByteId"/> + b, merges after.</summary>
    public static BpeTables FromCodeLm(string[] tokens, (string Left, string Right)[] merges)
    {
        var tokenBytes = new byte[tokens.Length][];
        var ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var id = 0; id < tokens.Length; id++)
        {
            tokenBytes[id] = id < SpecialTokens.All.Count ? Encoding.UTF8.GetBytes(tokens[id]) : ByteLevel.Decode(tokens[id]);
            ids[tokens[id]] = id;
        }
        var byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            if (!ids.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out var id) || id != SpecialTokens.FirstByteId + b)
                throw new InvalidDataException($"tokenizer.json: byte 0x{b:X2} must be token {SpecialTokens.FirstByteId + b}.");
            byteIds[b] = id;
        }
        return WithMerges(tokenBytes, byteIds, ids, merges, "tokenizer.json");
    }

    /// <summary>A Hugging Face byte-level BPE: any id layout; added tokens override (or fill) ids as HF decodes them.</summary>
    public static BpeTables FromHf(HfTokenizerJson json, string path)
    {
        var size = 0;
        foreach (var id in json.Vocab.Values) size = Math.Max(size, id + 1);
        foreach (var t in json.AddedTokens) size = Math.Max(size, t.Id + 1);
        var tokenBytes = new byte[size][];
        foreach (var (token, id) in json.Vocab) tokenBytes[id] = HfTokenBytes(token);
        foreach (var t in json.AddedTokens) tokenBytes[t.Id] = HfTokenBytes(json.MatchText(t));
        for (var id = 0; id < size; id++) tokenBytes[id] ??= [];

        var byteIds = new int[256];
        for (var b = 0; b < 256; b++)
            byteIds[b] = json.Vocab.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out var id) ? id : -1;

        return WithMerges(tokenBytes, byteIds, json.Vocab, [.. json.Merges], path) with
        {
            Unk = json.UnkToken != null ? json.Vocab[json.UnkToken] : -1,
            FuseUnk = json.FuseUnk,
            WholePieces = json.IgnoreMerges ? json.Vocab : null,
        };
    }

    // HF's ByteLevel decoder: a token whose every char is a byte-level char stands for those bytes; any other token
    // (e.g. "<｜fim▁begin｜>") for its own UTF-8.
    private static byte[] HfTokenBytes(string token) =>
        ByteLevel.TryDecode(token, out var bytes) ? bytes : Encoding.UTF8.GetBytes(token);

    private static BpeTables WithMerges(byte[][] tokenBytes, int[] byteIds, Dictionary<string, int> ids,
        (string Left, string Right)[] merges, string path)
    {
        var mergeRank = new Dictionary<long, int>(merges.Length);
        var mergeResult = new int[merges.Length];
        for (var r = 0; r < merges.Length; r++)
        {
            var (l, rt) = merges[r];
            if (!ids.TryGetValue(l, out var a) || !ids.TryGetValue(rt, out var b) || !ids.TryGetValue(l + rt, out var m))
                throw new InvalidDataException($"{path}: merge {r} '{l} {rt}' uses a token that is not in the vocabulary.");
            mergeRank[Key(a, b)] = r; // a pair listed twice keeps its last rank, as in HF
            mergeResult[r] = m;
        }
        return new BpeTables
        {
            TokenBytes = tokenBytes, ByteIds = byteIds, MergeRank = mergeRank, MergeResult = mergeResult,
            OneMergeAtATime = MergesOutOfOrder(mergeRank, mergeResult),
        };
    }

    private static bool MergesOutOfOrder(Dictionary<long, int> mergeRank, int[] mergeResult)
    {
        var latestMade = new Dictionary<int, int>();
        var earliestUsed = new Dictionary<int, int>();
        foreach (var (key, rank) in mergeRank)
        {
            var m = mergeResult[rank];
            latestMade[m] = Math.Max(rank, latestMade.GetValueOrDefault(m, -1));
            foreach (var part in new[] { (int)(key >> 32), (int)(uint)key })
                earliestUsed[part] = Math.Min(rank, earliestUsed.GetValueOrDefault(part, int.MaxValue));
        }
        foreach (var (token, made) in latestMade)
            if (earliestUsed.TryGetValue(token, out var used) && used < made) return true;
        return false;
    }
}
