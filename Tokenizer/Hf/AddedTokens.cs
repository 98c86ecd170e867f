using System.Buffers;

namespace CodeLm.Tokenizer.Hf;

/// <summary>One entry of tokenizer.json's <c>added_tokens</c>, with the id HF tokenizers gives it on load.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool Normalized, bool LStrip, bool RStrip, bool SingleWord);

/// <summary>A piece of text on its way to ids: either already a token (<see cref="Id"/> ≥ 0) or text still to split.</summary>
internal readonly record struct Segment(ReadOnlyMemory<char> Text, int Id)
{
    public bool IsToken => Id >= 0;
}

/// <summary>
/// Finds added tokens in text as HF tokenizers does before pre-tokenization: leftmost match, longest at that position,
/// then the next search from the end of that match (also when a <c>single_word</c> token is discarded there);
/// <c>lstrip</c>/<c>rstrip</c> make the token's piece swallow the whitespace beside it.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar = [];
    private readonly SearchValues<char> _firstChars;

    /// <param name="tokens">Tokens with the exact text to look for (for normalized tokens: their normalized content).</param>
    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        foreach (var group in tokens.Where(t => t.Pattern.Length > 0).GroupBy(t => t.Pattern[0]))
            _byFirstChar[group.Key] = group.OrderByDescending(t => t.Pattern.Length).ToArray();
        _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Appends segments covering <paramref name="text"/>: the tokens found and the text between them.</summary>
    public void Split(ReadOnlyMemory<char> text, List<Segment> into)
    {
        var s = text.Span;
        int offset = 0, search = 0;
        while (search < s.Length)
        {
            var found = s[search..].IndexOfAny(_firstChars);
            if (found < 0) break;
            var at = search + found;
            var match = LongestAt(s, at);
            if (match == null) { search = at + 1; continue; }
            int start = at, stop = at + match.Value.Pattern.Length;
            search = stop;
            var token = match.Value.Token;
            if (token.SingleWord && ((start > 0 && EndsWithWord(s[..start])) || (stop < s.Length && StartsWithWord(s[stop..]))))
                continue;
            if (token.LStrip) start = Math.Max(TrailingSpaceStart(s[..start]), offset);
            if (token.RStrip) stop += LeadingSpaceLength(s[stop..]);
            start = Math.Max(start, offset); // a token that ends in stripped whitespace may have covered the next one's start
            if (start > offset) into.Add(new Segment(text[offset..start], -1));
            into.Add(new Segment(text[start..stop], token.Id));
            offset = stop;
        }
        if (offset < s.Length) into.Add(new Segment(text[offset..], -1));
    }

    private (string Pattern, AddedToken Token)? LongestAt(ReadOnlySpan<char> s, int at)
    {
        foreach (var candidate in _byFirstChar[s[at]])
            if (s[at..].StartsWith(candidate.Pattern, StringComparison.Ordinal)) return candidate;
        return null;
    }

    private static bool EndsWithWord(ReadOnlySpan<char> s)
    {
        var i = s.Length - 1;
        var cp = char.IsLowSurrogate(s[i]) && i > 0 && char.IsHighSurrogate(s[i - 1]) ? char.ConvertToUtf32(s[i - 1], s[i]) : s[i];
        return CodePointSet.IsWord(cp, withJoinControl: true);
    }

    private static bool StartsWithWord(ReadOnlySpan<char> s)
    {
        var cp = char.IsHighSurrogate(s[0]) && s.Length > 1 && char.IsLowSurrogate(s[1]) ? char.ConvertToUtf32(s[0], s[1]) : s[0];
        return CodePointSet.IsWord(cp, withJoinControl: true);
    }

    // All whitespace is in the BMP, so char-wise scanning is code-point exact.
    private static int TrailingSpaceStart(ReadOnlySpan<char> s)
    {
        var i = s.Length;
        while (i > 0 && CodePointSet.IsWhiteSpace(s[i - 1])) i--;
        return i;
    }

    private static int LeadingSpaceLength(ReadOnlySpan<char> s)
    {
        var i = 0;
        while (i < s.Length && CodePointSet.IsWhiteSpace(s[i])) i++;
        return i;
    }
}
