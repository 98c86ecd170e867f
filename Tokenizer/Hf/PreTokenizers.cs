using System.Text;

namespace CodeLm.Tokenizer.Hf;

/// <summary>How a split treats the matched text (tokenizer.json's <c>behavior</c>).</summary>
internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// One pre-tokenizer of tokenizer.json. Each one cuts every piece the previous one made, on its own: a regex never sees
/// past the piece it is given (so <c>$</c> and look-ahead stop at the piece's end), as in HF tokenizers.
/// </summary>
internal abstract class PreTokenizerStep
{
    public abstract void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> into);

    // HF's NormalizedString.split: the parts cover the piece; matches are marked; behavior decides what is kept together.
    protected static void Emit(ReadOnlyMemory<char> piece, List<(int Start, int End, bool Match)> parts, SplitBehavior behavior,
        List<ReadOnlyMemory<char>> into)
    {
        var kept = new List<(int Start, int End, bool Remove)>(parts.Count);
        var previousMatch = false;
        switch (behavior)
        {
            case SplitBehavior.Removed:
                foreach (var (s, e, m) in parts) kept.Add((s, e, m));
                break;
            case SplitBehavior.Isolated:
                foreach (var (s, e, _) in parts) kept.Add((s, e, false));
                break;
            case SplitBehavior.Contiguous:
                foreach (var (s, e, m) in parts)
                {
                    if (m == previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, e, false);
                    else kept.Add((s, e, false));
                    previousMatch = m;
                }
                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var (s, e, m) in parts)
                {
                    if (m && !previousMatch && kept.Count > 0) kept[^1] = (kept[^1].Start, e, false);
                    else kept.Add((s, e, false));
                    previousMatch = m;
                }
                break;
            case SplitBehavior.MergedWithNext:
                for (var i = parts.Count - 1; i >= 0; i--)
                {
                    var (s, e, m) = parts[i];
                    if (m && !previousMatch && kept.Count > 0) kept[^1] = (s, kept[^1].End, false);
                    else kept.Add((s, e, false));
                    previousMatch = m;
                }
                kept.Reverse();
                break;
        }
        foreach (var (s, e, remove) in kept)
            if (!remove && e > s) into.Add(piece[s..e]);
    }
}

/// <summary><c>Split</c>: a regex (Oniguruma semantics, see <see cref="OnigRegex"/>) or a literal string.</summary>
internal sealed class SplitStep(OnigRegex regex, SplitBehavior behavior, bool invert) : PreTokenizerStep
{
    public override void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> into)
    {
        var parts = new List<(int, int, bool)>();
        var previous = 0;
        var s = piece.Span;
        foreach (var m in regex.For(s).EnumerateMatches(s))
        {
            // .NET steps past an empty match by one UTF-16 unit, Oniguruma by one code point.
            if (m.Length == 0 && m.Index > 0 && m.Index < s.Length && char.IsLowSurrogate(s[m.Index]) && char.IsHighSurrogate(s[m.Index - 1]))
                continue;
            if (m.Index > previous) parts.Add((previous, m.Index, invert));
            parts.Add((m.Index, m.Index + m.Length, !invert));
            previous = m.Index + m.Length;
        }
        if (previous < piece.Length) parts.Add((previous, piece.Length, invert));
        Emit(piece, parts, behavior, into);
    }
}

/// <summary><c>Digits</c>: every numeric code point alone, or runs of them kept together.</summary>
internal sealed class DigitsStep(bool individualDigits) : PreTokenizerStep
{
    public override void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> into)
    {
        var s = piece.Span;
        var parts = new List<(int, int, bool)>();
        var last = 0;
        for (var i = 0; i < s.Length;)
        {
            Rune.DecodeFromUtf16(s[i..], out var rune, out var n);
            if (CodePointSet.IsNumeric(rune.Value))
            {
                if (i > last) parts.Add((last, i, false));
                parts.Add((i, i + n, true));
                last = i + n;
            }
            i += n;
        }
        if (last < s.Length) parts.Add((last, s.Length, false));
        Emit(piece, parts, individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, into);
    }
}

/// <summary>
/// <c>ByteLevel</c>: an optional leading space on every piece, then optionally GPT-2's split. The byte → char mapping
/// itself needs no step: BPE runs on the piece's UTF-8 bytes.
/// </summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, bool useRegex) : PreTokenizerStep
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly SplitStep? _gpt2 = useRegex ? new SplitStep(OnigRegex.Get(Gpt2Pattern), SplitBehavior.Isolated, false) : null;

    public override void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> into)
    {
        if (addPrefixSpace && !piece.Span.StartsWith(' ')) piece = string.Concat(" ", piece.Span).AsMemory();
        if (_gpt2 != null) _gpt2.Split(piece, into);
        else into.Add(piece);
    }
}

/// <summary>The pre-tokenizers in order (an empty chain leaves the text whole).</summary>
internal sealed class PreTokenizerChain(IReadOnlyList<PreTokenizerStep> steps)
{
    public IReadOnlyList<PreTokenizerStep> Steps => steps;

    public void Split(ReadOnlyMemory<char> text, List<ReadOnlyMemory<char>> into)
    {
        if (steps.Count == 0) { if (!text.IsEmpty) into.Add(text); return; }
        var current = new List<ReadOnlyMemory<char>> { text };
        for (var k = 0; k < steps.Count; k++)
        {
            var next = k == steps.Count - 1 ? into : new List<ReadOnlyMemory<char>>(current.Count * 2);
            foreach (var piece in current) steps[k].Split(piece, next);
            current = next;
        }
    }
}
