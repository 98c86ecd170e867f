using System.Text;
using System.Text.RegularExpressions;

namespace CodeLm.DataPipeline.Decontamination;

/// <summary>Which benchmark problem a file contains, and how it was found.</summary>
public readonly record struct BenchmarkMatch(int Benchmark, string ProblemId, MatchKind Kind);

public enum MatchKind
{
    /// <summary>A solution or docstring, whitespace removed, is a substring of the file with whitespace removed.</summary>
    Substring,
    /// <summary>The file shares a run of n code tokens with a problem.</summary>
    NGram,
}

/// <summary>
/// Finds benchmark problems in files in one pass over each file: a Rabin–Karp scan for the substring needles (keyed by
/// their first <see cref="DecontaminationOptions.MinSubstringChars"/> characters) and a rolling hash over code tokens
/// for the n-grams. Thread-safe once built.
/// </summary>
public sealed partial class BenchmarkMatcher
{
    private readonly DecontaminationOptions _o;
    private readonly Dictionary<ulong, List<(string Needle, int Benchmark, string Id)>> _needles = new();
    private readonly Dictionary<ulong, (int Benchmark, string Id)> _ngrams = new();
    private readonly ulong _windowPower = 1, _ngramPower = 1;
    private const ulong Base = 0x100000001B3;

    public BenchmarkMatcher(DecontaminationOptions options)
    {
        _o = options;
        for (int i = 0; i < _o.MinSubstringChars - 1; i++) _windowPower *= Base;
        for (int i = 0; i < _o.NGram - 1; i++) _ngramPower *= Base;
        // An n-gram found in two problems of one benchmark is its boilerplate (Java's imports, C++'s includes), not a
        // problem. The same problem in two benchmarks (HumanEval and HumanEval-X's Python) keeps its first owner.
        var owners = new Dictionary<ulong, (int Benchmark, string Id, bool Shared)>();
        for (int b = 0; b < _o.Benchmarks.Count; b++)
            foreach (var p in _o.Benchmarks[b].Problems)
            {
                foreach (var text in new[] { p.Solution, Docstring(p.Prompt) })
                {
                    var needle = WithoutWhitespace(text);
                    if (needle.Length < _o.MinSubstringChars) continue;
                    var key = Hash(needle.AsSpan(0, _o.MinSubstringChars));
                    if (!_needles.TryGetValue(key, out var list)) _needles[key] = list = [];
                    list.Add((needle, b, p.Id));
                }
                if (_o.NGram <= 0) continue;
                foreach (var h in NGrams(p.Prompt + "\n" + p.Solution).Distinct())
                    owners[h] = !owners.TryGetValue(h, out var o) ? (b, p.Id, false) : o.Benchmark == b && o.Id != p.Id ? o with { Shared = true } : o;
            }
        foreach (var (h, o) in owners)
            if (!o.Shared) _ngrams[h] = (o.Benchmark, o.Id);
    }

    /// <summary>The first benchmark problem found in <paramref name="text"/>, or null.</summary>
    public BenchmarkMatch? Find(string text)
    {
        if (_needles.Count > 0 && FindSubstring(text) is { } s) return s;
        (int Benchmark, string Id) hit = (0, "");
        if (_ngrams.Count > 0 && ForEachNGram(text, h => _ngrams.TryGetValue(h, out hit)))
            return new BenchmarkMatch(hit.Benchmark, hit.Id, MatchKind.NGram);
        return null;
    }

    private BenchmarkMatch? FindSubstring(string text)
    {
        var flat = WithoutWhitespace(text);
        int w = _o.MinSubstringChars;
        if (flat.Length < w) return null;
        ulong h = Hash(flat.AsSpan(0, w));
        for (int i = 0; ; i++)
        {
            if (_needles.TryGetValue(h, out var list))
                foreach (var (needle, b, id) in list)
                    if (i + needle.Length <= flat.Length && flat.AsSpan(i, needle.Length).SequenceEqual(needle))
                        return new BenchmarkMatch(b, id, MatchKind.Substring);
            if (i + w >= flat.Length) return null;
            h = (h - flat[i] * _windowPower) * Base + flat[i + w];
        }
    }

    private static ulong Hash(ReadOnlySpan<char> s)
    {
        ulong h = 0;
        foreach (var c in s) h = h * Base + c;
        return h;
    }

    /// <summary>
    /// Rolling hashes of every run of n tokens, passed to <paramref name="visit"/> until it returns true. A token is an
    /// identifier, a number or one punctuation character; whitespace only separates. Only n-grams of which at least a
    /// quarter are identifiers count. Returns whether a visit returned true.
    /// </summary>
    private bool ForEachNGram(string text, Func<ulong, bool> visit)
    {
        int n = _o.NGram, words = 0;
        Span<ulong> window = n <= 256 ? stackalloc ulong[n] : new ulong[n];
        Span<bool> isWord = n <= 256 ? stackalloc bool[n] : new bool[n];
        ulong h = 0;
        long count = 0;
        for (int i = 0; i < text.Length;)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int start = i;
            if (char.IsAsciiLetter(c) || c == '_') while (++i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) { }
            else if (char.IsAsciiDigit(c)) while (++i < text.Length && char.IsAsciiDigit(text[i])) { }
            else i++;
            ulong t = TokenHash(text.AsSpan(start, i - start));
            bool word = char.IsAsciiLetter(c) || c == '_';
            int slot = (int)(count % n);
            if (count >= n) { h -= window[slot] * _ngramPower; if (isWord[slot]) words--; }
            h = h * Base + t;
            (window[slot], isWord[slot]) = (t, word);
            if (word) words++;
            // Runs of numbers and brackets (a test's matrix, a lookup table) are in any data file; a match needs words.
            if (++count >= n && words >= n / 4 && visit(h)) return true;
        }
        return false;
    }

    private IEnumerable<ulong> NGrams(string text)
    {
        var all = new List<ulong>();
        ForEachNGram(text, h => { all.Add(h); return false; });
        return all;
    }

    private static ulong TokenHash(ReadOnlySpan<char> token)
    {
        ulong h = 0xCBF29CE484222325;
        foreach (var c in token) h = (h ^ c) * 0x100000001B3;
        return h;
    }

    private static string WithoutWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) if (!char.IsWhiteSpace(c)) sb.Append(c);
        return sb.ToString();
    }

    /// <summary>
    /// The prompt's documentation: its longest triple-quoted string, block comment or run of // comments. Not # lines,
    /// which in C and C++ prompts are the #include boilerplate every such file starts with.
    /// </summary>
    internal static string Docstring(string prompt) =>
        DocBlock().Matches(prompt).Select(m => m.Value).MaxBy(v => v.Length) ?? "";

    [GeneratedRegex(@"""""""[\s\S]*?""""""|'''[\s\S]*?'''|/\*[\s\S]*?\*/|(?:^[ \t]*//.*\n?)+", RegexOptions.Multiline)]
    private static partial Regex DocBlock();
}
