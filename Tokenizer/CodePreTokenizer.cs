using System.Globalization;
using System.Text;

namespace CodeLm.Tokenizer;

/// <summary>
/// Splits text into the pieces BPE merges never cross. Tuned for code:
/// identifiers (letters, marks and '_') stay whole with at most one leading space; every digit is its own piece;
/// punctuation runs keep one leading space and swallow the line breaks right after them ("{\n", ";\n");
/// runs of blank lines stay together; a run of spaces/tabs is one piece (a space run gives its last space to the next word,
/// as GPT-2 does, so " return" is one token after any indentation).
/// <see cref="Pattern"/> is the same rule as a regex; tokenizer.json carries it so HF tokenizers splits identically.
/// The scanner below is a hand-written, allocation-free equivalent of that regex (on code points, like Oniguruma).
/// </summary>
public static class CodePreTokenizer
{
    // Whitespace exactly as Unicode White_Space (what .NET's \s and Oniguruma's Unicode \s both mean), spelled out so the
    // pattern does not depend on either engine's reading of \s.
    private const string Ws = "\t\n\u000B\u000C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    private const string WsNoSpace = "\t\n\u000B\u000C\r\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

    /// <summary>The split rule as a regex (leftmost alternative wins; matches are "isolated" pieces).</summary>
    public const string Pattern =
        " ?[\\p{L}\\p{M}_]+" +                          // identifier / word, optional leading space
        "|\\p{N}" +                                      // one digit
        "| ?[^" + Ws + "\\p{L}\\p{M}\\p{N}_]+[\\r\\n]*" + // punctuation run (+ the line breaks after it)
        "|[" + Ws + "]*[\\r\\n]+" +                      // whitespace up to the last line break of a run
        "|[" + Ws + "]*[" + WsNoSpace + "](?=[^" + Ws + "])" + // a run ending in a tab before code: kept whole
        "|[" + Ws + "]+(?![^" + Ws + "])" +              // a space run: all but its last space
        "|[" + Ws + "]+";

    private enum Kind : byte { Word, Digit, Space, Other }

    /// <summary>The end (exclusive) of the piece that starts at <paramref name="start"/>.</summary>
    public static int NextPieceEnd(ReadOnlySpan<char> s, int start)
    {
        var (kind, len) = Classify(s, start);
        switch (kind)
        {
            case Kind.Word: return RunEnd(s, start + len, Kind.Word);
            case Kind.Digit: return start + len;
            case Kind.Other: return BreaksEnd(s, RunEnd(s, start + len, Kind.Other));
        }
        // Whitespace. A single ' ' glues onto a following word or punctuation run.
        if (s[start] == ' ' && start + 1 < s.Length)
        {
            var (next, nlen) = Classify(s, start + 1);
            if (next == Kind.Word) return RunEnd(s, start + 1 + nlen, Kind.Word);
            if (next == Kind.Other) return BreaksEnd(s, RunEnd(s, start + 1 + nlen, Kind.Other));
        }
        var end = start; // all whitespace is in the BMP: one char per code point
        var lastBreak = -1;
        while (end < s.Length && IsSpace(s[end]))
        {
            if (s[end] is '\r' or '\n') lastBreak = end;
            end++;
        }
        if (lastBreak >= 0) return lastBreak + 1;
        if (end == s.Length) return end;
        if (s[end - 1] != ' ') return end;          // tab-ended run before code
        return end - start >= 2 ? end - 1 : end;     // leave the last space for the next piece
    }

    /// <summary>Calls <paramref name="piece"/> with (start, length) for every piece of <paramref name="text"/>.</summary>
    public static IEnumerable<Range> Split(string text)
    {
        for (var i = 0; i < text.Length;)
        {
            var end = NextPieceEnd(text, i);
            yield return new Range(i, end);
            i = end;
        }
    }

    private static int RunEnd(ReadOnlySpan<char> s, int i, Kind kind)
    {
        while (i < s.Length)
        {
            var (k, len) = Classify(s, i);
            if (k != kind) break;
            i += len;
        }
        return i;
    }

    private static int BreaksEnd(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && s[i] is '\r' or '\n') i++;
        return i;
    }

    private static bool IsSpace(char c) => c <= 0x20
        ? c == ' ' || (c >= '\t' && c <= '\r')
        : c >= 0x85 && char.IsWhiteSpace(c);

    private static (Kind Kind, int Length) Classify(ReadOnlySpan<char> s, int i)
    {
        var c = s[i];
        if (c < 0x80)
        {
            if ((uint)((c | 0x20) - 'a') <= 'z' - 'a' || c == '_') return (Kind.Word, 1);
            if ((uint)(c - '0') <= 9) return (Kind.Digit, 1);
            if (IsSpace(c)) return (Kind.Space, 1);
            return (Kind.Other, 1);
        }
        // Lone surrogates decode as U+FFFD (a symbol), as they do once the text is UTF-8.
        Rune.DecodeFromUtf16(s[i..], out var rune, out var consumed);
        if (rune.IsBmp && IsSpace((char)rune.Value)) return (Kind.Space, consumed);
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                => (Kind.Word, consumed),
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => (Kind.Digit, consumed),
            _ => (Kind.Other, consumed),
        };
    }
}
