using System.Globalization;
using System.Text;

namespace CodeLm.Tokenizer.Hf;

/// <summary>
/// A set of Unicode scalar values as sorted ranges, and its spelling as a .NET regex that consumes one whole code
/// point. .NET's regex sees UTF-16 units, so a supplementary letter is two surrogates in category Cs, never \p{L};
/// Oniguruma (what HF tokenizers runs) sees code points. Spelling the supplementary half as explicit surrogate pairs
/// gives .NET the same answer on valid UTF-16 (lone surrogates are replaced before matching).
/// </summary>
internal sealed class CodePointSet
{
    public const int MaxCodePoint = 0x10FFFF;

    private readonly List<(int Lo, int Hi)> _ranges;

    private CodePointSet(List<(int Lo, int Hi)> ranges) => _ranges = ranges;

    /// <summary>Every scalar value up to <paramref name="limit"/> for which <paramref name="contains"/> holds (surrogates never).</summary>
    public static CodePointSet Where(Func<int, bool> contains, int limit = MaxCodePoint)
    {
        var ranges = new List<(int, int)>();
        var start = -1;
        for (var c = 0; c <= limit + 1; c++)
        {
            var inside = c <= limit && !IsSurrogate(c) && contains(c);
            if (inside && start < 0) start = c;
            else if (!inside && start >= 0) { ranges.Add((start, c - 1)); start = -1; }
        }
        return new CodePointSet(ranges);
    }

    /// <summary>A few code points.</summary>
    public static CodePointSet Of(IEnumerable<int> codePoints) =>
        new([.. codePoints.Where(c => !IsSurrogate(c)).Distinct().Order().Select(c => (c, c))]);

    /// <summary>A regex fragment matching exactly one code point of the set (a BMP char or a surrogate pair).</summary>
    public string ToRegex(bool bmpOnly = false)
    {
        var alternatives = new List<string>();
        var bmp = new StringBuilder();
        foreach (var (lo, hi) in _ranges)
        {
            if (lo > 0xFFFF) break;
            AppendRange(bmp, lo, Math.Min(hi, 0xFFFF));
        }
        if (bmp.Length > 0) alternatives.Add("[" + bmp + "]");

        // Supplementary part: group high surrogates that share the same set of low surrogates.
        var lowsByHigh = new SortedDictionary<int, List<(int, int)>>();
        foreach (var (lo, hi) in _ranges)
        {
            if (hi <= 0xFFFF || bmpOnly) continue;
            for (var c = Math.Max(lo, 0x10000); c <= hi;)
            {
                var high = 0xD800 + ((c - 0x10000) >> 10);
                var blockEnd = 0x10000 + ((high - 0xD800 + 1) << 10) - 1;
                var end = Math.Min(hi, blockEnd);
                if (!lowsByHigh.TryGetValue(high, out var lows)) lowsByHigh[high] = lows = [];
                lows.Add((0xDC00 + ((c - 0x10000) & 0x3FF), 0xDC00 + ((end - 0x10000) & 0x3FF)));
                c = end + 1;
            }
        }
        int? runStart = null, runEnd = null;
        string? runLows = null;
        foreach (var (high, lows) in lowsByHigh)
        {
            var spelled = new StringBuilder();
            foreach (var (a, b) in lows) AppendRange(spelled, a, b);
            var text = spelled.ToString();
            if (runLows == text && runEnd == high - 1) { runEnd = high; continue; }
            if (runLows != null) alternatives.Add(Pair(runStart!.Value, runEnd!.Value, runLows));
            (runStart, runEnd, runLows) = (high, high, text);
        }
        if (runLows != null) alternatives.Add(Pair(runStart!.Value, runEnd!.Value, runLows));

        return alternatives.Count switch
        {
            0 => "(?!)",
            1 => alternatives[0],
            _ => "(?:" + string.Join("|", alternatives) + ")",
        };
    }

    private static string Pair(int highLo, int highHi, string lows)
    {
        var high = new StringBuilder();
        AppendRange(high, highLo, highHi);
        return "[" + high + "][" + lows + "]";
    }

    private static void AppendRange(StringBuilder sb, int lo, int hi)
    {
        sb.Append(Escape(lo));
        if (hi > lo) sb.Append('-').Append(Escape(hi));
    }

    /// <summary>A BMP code point as a regex literal that means itself anywhere (inside or outside a class).</summary>
    public static string Escape(int c) => "\\u" + c.ToString("X4", CultureInfo.InvariantCulture);

    public static bool IsSurrogate(int c) => c is >= 0xD800 and <= 0xDFFF;

    // ---- Unicode facts, computed once for all code points -------------------------------------------------------

    public static UnicodeCategory Category(int c) =>
        IsSurrogate(c) ? UnicodeCategory.Surrogate : Rune.GetUnicodeCategory(new Rune(c));

    /// <summary>Unicode White_Space: Oniguruma's and Rust's \s.</summary>
    public static bool IsWhiteSpace(int c) => c is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680
        or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>Unicode's "numeric" categories (Nd, Nl, No): Rust's <c>char::is_numeric</c>.</summary>
    public static bool IsNumeric(int c) => Category(c) is UnicodeCategory.DecimalDigitNumber
        or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary>
    /// Unicode \w: Alphabetic (letters, letter numbers, the circled and squared Latin letters), marks, decimal digits,
    /// connector punctuation. Rust's regex (HF's single_word check) also counts the joiners; Oniguruma does not.
    /// </summary>
    public static bool IsWord(int c, bool withJoinControl = false) =>
        (withJoinControl && c is 0x200C or 0x200D)
        || c is (>= 0x24B6 and <= 0x24E9) or (>= 0x1F130 and <= 0x1F149) or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189)
        || Category(c) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };

    // Code points by simple case fold, for classes of two or more (what (?i) makes equal). Folding never crosses
    // between the BMP and the supplementary planes, so each half is built when first needed.
    private static readonly Lazy<Dictionary<int, int[]>> BmpFoldClasses = new(() => FoldClassesIn(0, 0xFFFF));
    private static readonly Lazy<Dictionary<int, int[]>> SupplementaryFoldClasses = new(() => FoldClassesIn(0x10000, MaxCodePoint));

    private static Dictionary<int, int[]> FoldClassesIn(int first, int last)
    {
        var byKey = new Dictionary<int, List<int>>();
        for (var c = first; c <= last; c++)
        {
            if (IsSurrogate(c)) continue;
            var key = Fold(c);
            if (!byKey.TryGetValue(key, out var members)) byKey[key] = members = [];
            members.Add(c);
        }
        var classes = new Dictionary<int, int[]>();
        foreach (var members in byKey.Values)
            if (members.Count > 1)
            {
                var array = members.ToArray();
                foreach (var m in array) classes[m] = array;
            }
        return classes;
    }

    private static Dictionary<int, int[]> FoldClasses(int c) => c <= 0xFFFF ? BmpFoldClasses.Value : SupplementaryFoldClasses.Value;

    // Simple case folding as ToLower(ToUpper(c)); the dotted and dotless i only fold in Turkish, so they stay alone.
    private static int Fold(int c) => c is 0x130 or 0x131
        ? c
        : Rune.ToLowerInvariant(Rune.ToUpperInvariant(new Rune(c))).Value;

    /// <summary>The code points (?i) treats as equal to <paramref name="c"/>, itself included.</summary>
    public static IReadOnlyList<int> CaseVariants(int c) => FoldClasses(c).TryGetValue(c, out var v) ? v : [c];

    /// <summary>Whether <paramref name="contains"/> holds for <paramref name="c"/> or a code point (?i) treats as equal.</summary>
    public static bool AnyCaseVariant(int c, Func<int, bool> contains)
    {
        if (contains(c)) return true;
        if (!FoldClasses(c).TryGetValue(c, out var variants)) return false;
        foreach (var v in variants) if (contains(v)) return true;
        return false;
    }
}
