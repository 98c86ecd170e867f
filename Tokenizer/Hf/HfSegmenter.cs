namespace CodeLm.Tokenizer.Hf;

/// <summary>
/// Text → added tokens and pieces for BPE, in HF tokenizers' order: added tokens that match raw text are cut out first,
/// the rest is normalized, added tokens that match normalized text are cut out of that, and what remains goes through
/// the pre-tokenizers. Stateless, so thread-safe.
/// </summary>
internal sealed class HfSegmenter
{
    private readonly AddedTokenMatcher _raw, _normalized;
    private readonly TextNormalizer _normalizer;
    private readonly PreTokenizerChain _preTokenizer;

    public HfSegmenter(HfTokenizerJson json)
    {
        _raw = new AddedTokenMatcher(json.AddedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalized = new AddedTokenMatcher(json.AddedTokens.Where(t => t.Normalized).Select(t => (json.MatchText(t), t)));
        _normalizer = json.Normalizer;
        _preTokenizer = json.PreTokenizer;
    }

    /// <summary>Appends the added tokens and BPE pieces of <paramref name="text"/> (well-formed UTF-16) in order.</summary>
    public void Segment(string text, List<Segment> into)
    {
        var sections = new List<Segment>();
        Match(_raw, text.AsMemory(), sections);
        var parts = new List<Segment>();
        var pieces = new List<ReadOnlyMemory<char>>();
        foreach (var section in sections)
        {
            if (section.IsToken) { into.Add(section); continue; }
            var normalized = _normalizer.IsIdentity ? section.Text : _normalizer.Apply(section.Text.ToString()).AsMemory();
            parts.Clear();
            Match(_normalized, normalized, parts);
            foreach (var part in parts)
            {
                if (part.IsToken) { into.Add(part); continue; }
                pieces.Clear();
                _preTokenizer.Split(part.Text, pieces);
                foreach (var piece in pieces) into.Add(new Segment(piece, -1));
            }
        }
    }

    private static void Match(AddedTokenMatcher matcher, ReadOnlyMemory<char> text, List<Segment> into)
    {
        if (matcher.IsEmpty) { if (!text.IsEmpty) into.Add(new Segment(text, -1)); }
        else matcher.Split(text, into);
    }
}
