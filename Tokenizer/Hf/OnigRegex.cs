using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CodeLm.Tokenizer.Hf;

/// <summary>
/// A pattern from tokenizer.json, matched the way HF tokenizers matches it (Oniguruma, Ruby syntax: <c>^</c>/<c>$</c>
/// at line ends, <c>(?m)</c> is dot-all, Unicode <c>\s \d \w \h</c>, classes of whole code points, case-insensitive
/// matching by Unicode simple case folding), by a .NET regex with the same matches on valid UTF-16. Every construct that
/// stands for one code point is spelled out as an explicit <see cref="CodePointSet"/>; grouping, alternation,
/// quantifiers and look-around are copied; anything else is refused with <see cref="NotSupportedException"/>.
/// Oniguruma also folds one char to several (ß ↔ ss in a (?i) class); no tokenizer pattern we know needs that, and it
/// is not reproduced.
/// Text without surrogates (nearly all code) runs a BMP-only spelling, about as fast as the raw pattern in .NET; the
/// full spelling, with surrogate pairs for supplementary code points, is built on first need.
/// </summary>
internal sealed class OnigRegex
{
    private const RegexOptions Options = RegexOptions.Compiled | RegexOptions.CultureInvariant | RegexOptions.Multiline;
    private static readonly ConcurrentDictionary<string, OnigRegex> Cache = new(StringComparer.Ordinal);

    private readonly Regex _bmp;
    private readonly Lazy<Regex> _full;

    private OnigRegex(string pattern)
    {
        _bmp = new Regex(Translate(pattern, bmpOnly: true), Options);
        _full = new(() => new Regex(Translate(pattern, bmpOnly: false), Options));
    }

    public static OnigRegex Get(string pattern) => Cache.GetOrAdd(pattern, static p => new OnigRegex(p));

    /// <summary>A pattern matching <paramref name="literal"/> exactly (a Split's String pattern).</summary>
    public static OnigRegex Literal(string literal) =>
        Get(string.Concat(literal.EnumerateRunes().Select(r => $"\\x{{{r.Value:X}}}")));

    /// <summary>The regex to run on <paramref name="text"/>.</summary>
    public Regex For(ReadOnlySpan<char> text) => text.ContainsAnyInRange('\uD800', '\uDFFF') ? _full.Value : _bmp;

    /// <summary>The .NET spelling of an Oniguruma pattern; <paramref name="bmpOnly"/> leaves out supplementary code points.</summary>
    public static string Translate(string pattern, bool bmpOnly = false) => new Translator(pattern, bmpOnly).Run();

    private readonly record struct Flags(bool IgnoreCase, bool DotAll);

    private sealed class Translator(string p, bool bmpOnly)
    {
        private readonly StringBuilder _out = new();
        private readonly Stack<(Flags Flags, int Start)> _groups = new();
        private Flags _flags;
        private int _i, _atomStart = -1;

        public string Run()
        {
            while (_i < p.Length)
            {
                var c = p[_i];
                switch (c)
                {
                    case '[': _i++; Atom(Class()); break;
                    case '\\': _i++; Escape(); break;
                    case '.':
                        _i++;
                        var dotAll = _flags.DotAll;
                        Atom(Set(cp => dotAll || cp != '\n'));
                        break;
                    case '(': OpenGroup(); break;
                    case ')':
                        if (_groups.Count == 0) throw Unsupported("an unbalanced ')'");
                        (_flags, _atomStart) = _groups.Pop();
                        _out.Append(')');
                        _i++;
                        break;
                    case '|': case '^': case '$':
                        _out.Append(c);
                        _atomStart = -1;
                        _i++;
                        break;
                    case '?': case '*': case '+': Quantifier(1); break;
                    case '{':
                        var interval = IntervalLength();
                        if (interval > 0) Quantifier(interval);
                        else Literal(ReadCodePoint());
                        break;
                    default: Literal(ReadCodePoint()); break;
                }
            }
            if (_groups.Count != 0) throw Unsupported("an unclosed '('");
            return _out.ToString();
        }

        private void Atom(string regex)
        {
            _atomStart = _out.Length;
            _out.Append(regex);
        }

        private void Literal(int cp)
        {
            if (_flags.IgnoreCase && CodePointSet.CaseVariants(cp) is { Count: > 1 } variants)
                Atom(CodePointSet.Of(variants).ToRegex(bmpOnly));
            else if (cp <= 0xFFFF) Atom(CodePointSet.Escape(cp));
            else if (bmpOnly) Atom("(?!)");
            else
            {
                var pair = char.ConvertFromUtf32(cp);
                Atom("(?:" + CodePointSet.Escape(pair[0]) + CodePointSet.Escape(pair[1]) + ")");
            }
        }

        private string Set(Func<int, bool> contains) =>
            CodePointSet.Where(_flags.IgnoreCase ? cp => CodePointSet.AnyCaseVariant(cp, contains) : contains, Limit).ToRegex(bmpOnly);

        private int Limit => bmpOnly ? 0xFFFF : CodePointSet.MaxCodePoint;

        private void Quantifier(int length)
        {
            if (_atomStart < 0) throw Unsupported($"a quantifier with nothing to repeat (at {_i})");
            var q = p.Substring(_i, length);
            if (q.StartsWith("{,", StringComparison.Ordinal)) q = "{0," + q[2..];
            _i += length;
            if (_i < p.Length && p[_i] == '?') { q += "?"; _i++; }
            else if (_i < p.Length && p[_i] == '+')
            {
                if (length > 1) throw Unsupported("a repeated interval ('{n,m}+')");
                _i++;
                _out.Insert(_atomStart, "(?>").Append(q).Append(')');
                _atomStart = -1;
                return;
            }
            _out.Append(q);
            _atomStart = -1;
        }

        // Length of a valid {n}, {n,}, {n,m} or {,m} at _i; 0 when '{' is a literal.
        private int IntervalLength()
        {
            var m = Regex.Match(p[_i..], @"^\{(\d*)(,(\d*))?\}");
            if (!m.Success || (m.Groups[1].Length == 0 && (!m.Groups[2].Success || m.Groups[3].Length == 0))) return 0;
            return m.Length;
        }

        private void OpenGroup()
        {
            _i++;
            var start = _out.Length;
            if (_i < p.Length && p[_i] == '?')
            {
                var rest = p[(_i + 1)..];
                if (rest.StartsWith('#'))
                {
                    var end = p.IndexOf(')', _i);
                    if (end < 0) throw Unsupported("an unclosed comment");
                    _i = end + 1;
                    return;
                }
                var flags = Regex.Match(rest, @"^([imx]*)(?:-([imx]*))?([:)])");
                if (flags.Success && (flags.Groups[1].Length > 0 || flags.Groups[2].Success))
                {
                    var next = Apply(_flags, flags.Groups[1].Value, flags.Groups[2].Value);
                    _i += 1 + flags.Length;
                    if (flags.Groups[3].Value == ")") { _flags = next; return; } // applies to the rest of the group
                    _groups.Push((_flags, start));
                    _flags = next;
                    _out.Append("(?:");
                    return;
                }
                var opener = Regex.Match(rest, @"^(?::|=|!|<=|<!|>|<[A-Za-z_]\w*>|'[A-Za-z_]\w*')");
                if (!opener.Success) throw Unsupported($"the group '(?{rest[..Math.Min(4, rest.Length)]}'");
                var text = opener.Value.StartsWith('\'') ? "<" + opener.Value[1..^1] + ">" : opener.Value;
                _groups.Push((_flags, start));
                _out.Append("(?").Append(text);
                _i += 1 + opener.Length;
                return;
            }
            _groups.Push((_flags, start));
            _out.Append('(');
        }

        private Flags Apply(Flags f, string on, string off)
        {
            if (on.Contains('x') || off.Contains('x')) throw Unsupported("extended mode (?x)");
            if (on.Contains('i')) f = f with { IgnoreCase = true };
            if (on.Contains('m')) f = f with { DotAll = true };
            if (off.Contains('i')) f = f with { IgnoreCase = false };
            if (off.Contains('m')) f = f with { DotAll = false };
            return f;
        }

        private void Escape()
        {
            if (_i >= p.Length) throw Unsupported("a backslash at its end");
            var c = p[_i];
            switch (c)
            {
                case 'A': case 'z': case 'Z': case 'b': case 'B': case 'G':
                    _out.Append('\\').Append(c);
                    _atomStart = -1;
                    _i++;
                    return;
                case >= '1' and <= '9':
                    _atomStart = _out.Length;
                    _out.Append('\\');
                    while (_i < p.Length && char.IsAsciiDigit(p[_i])) _out.Append(p[_i++]);
                    return;
                case 'k':
                    var name = Regex.Match(p[_i..], @"^k<[A-Za-z_]\w*>");
                    if (!name.Success) throw Unsupported("'\\k' without a <name>");
                    Atom("\\" + name.Value);
                    _i += name.Length;
                    return;
            }
            var predicate = ClassEscape();
            if (predicate != null) Atom(Set(predicate));
            else Literal(EscapedCodePoint());
        }

        // \d \s \w \h \p{..} and their negations; null when the escape is a single character.
        private Func<int, bool>? ClassEscape()
        {
            var c = p[_i];
            Func<int, bool>? f = char.ToLowerInvariant(c) switch
            {
                'd' => cp => CodePointSet.Category(cp) == UnicodeCategory.DecimalDigitNumber,
                's' => CodePointSet.IsWhiteSpace,
                'w' => cp => CodePointSet.IsWord(cp),
                'h' => cp => cp is (>= '0' and <= '9') or (>= 'a' and <= 'f') or (>= 'A' and <= 'F'),
                'p' => Property(),
                _ => null,
            };
            if (f == null) return null;
            if (char.ToLowerInvariant(c) != 'p') _i++;
            if (char.IsUpper(c)) { var inner = f; f = cp => !inner(cp); }
            return f;
        }

        private Func<int, bool> Property()
        {
            var m = Regex.Match(p[(_i + 1)..], @"^(?:\{(\^?)([A-Za-z_ ]+)\}|([A-Za-z]))");
            if (!m.Success) throw Unsupported("a '\\p' without a property name");
            _i += 1 + m.Length;
            var name = m.Groups[2].Success && m.Groups[2].Length > 0 ? m.Groups[2].Value : m.Groups[3].Value;
            var categories = Categories(name) ?? throw Unsupported($"the property \\p{{{name}}} (general categories only)");
            Func<int, bool> f = cp => categories.Contains(CodePointSet.Category(cp));
            if (m.Groups[1].Value == "^") { var inner = f; f = cp => !inner(cp); }
            return f;
        }

        private static HashSet<UnicodeCategory>? Categories(string name)
        {
            var all = Enum.GetValues<UnicodeCategory>();
            string[] groups = ["L", "M", "N", "P", "S", "Z", "C"];
            var key = name.Replace(" ", "").Replace("_", "").ToLowerInvariant() switch
            {
                "letter" => "L", "mark" => "M", "number" => "N", "punctuation" => "P", "symbol" => "S",
                "separator" => "Z", "other" => "C", "any" => "*", _ => name,
            };
            if (key == "*") return [.. all];
            if (groups.Contains(key)) return [.. all.Where(u => Abbreviation(u)[0] == key[0])];
            var one = all.Where(u => Abbreviation(u) == key).ToList();
            return one.Count == 1 ? [one[0]] : null;
        }

        private static string Abbreviation(UnicodeCategory u) => u switch
        {
            UnicodeCategory.UppercaseLetter => "Lu", UnicodeCategory.LowercaseLetter => "Ll", UnicodeCategory.TitlecaseLetter => "Lt",
            UnicodeCategory.ModifierLetter => "Lm", UnicodeCategory.OtherLetter => "Lo", UnicodeCategory.NonSpacingMark => "Mn",
            UnicodeCategory.SpacingCombiningMark => "Mc", UnicodeCategory.EnclosingMark => "Me", UnicodeCategory.DecimalDigitNumber => "Nd",
            UnicodeCategory.LetterNumber => "Nl", UnicodeCategory.OtherNumber => "No", UnicodeCategory.SpaceSeparator => "Zs",
            UnicodeCategory.LineSeparator => "Zl", UnicodeCategory.ParagraphSeparator => "Zp", UnicodeCategory.Control => "Cc",
            UnicodeCategory.Format => "Cf", UnicodeCategory.Surrogate => "Cs", UnicodeCategory.PrivateUse => "Co",
            UnicodeCategory.ConnectorPunctuation => "Pc", UnicodeCategory.DashPunctuation => "Pd", UnicodeCategory.OpenPunctuation => "Ps",
            UnicodeCategory.ClosePunctuation => "Pe", UnicodeCategory.InitialQuotePunctuation => "Pi", UnicodeCategory.FinalQuotePunctuation => "Pf",
            UnicodeCategory.OtherPunctuation => "Po", UnicodeCategory.MathSymbol => "Sm", UnicodeCategory.CurrencySymbol => "Sc",
            UnicodeCategory.ModifierSymbol => "Sk", UnicodeCategory.OtherSymbol => "So", UnicodeCategory.OtherNotAssigned => "Cn",
            _ => "?",
        };

        // The code point of a one-character escape at _i (\n, \x41, \x{1F600}, \u00E9, \. ...).
        private int EscapedCodePoint()
        {
            var c = p[_i++];
            switch (c)
            {
                case 'n': return '\n';
                case 'r': return '\r';
                case 't': return '\t';
                case 'f': return '\f';
                case 'v': return '\v';
                case 'a': return '\a';
                case 'e': return 0x1B;
                case '0':
                    var octal = 0;
                    for (var k = 0; k < 2 && _i < p.Length && p[_i] is >= '0' and <= '7'; k++) octal = octal * 8 + (p[_i++] - '0');
                    return octal;
                case 'x':
                    var hex = Regex.Match(p[_i..], @"^(?:\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{1,2}))");
                    if (!hex.Success) throw Unsupported("a '\\x' without hex digits");
                    _i += hex.Length;
                    return int.Parse(hex.Groups[1].Success && hex.Groups[1].Length > 0 ? hex.Groups[1].Value : hex.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                case 'u':
                    if (_i + 4 > p.Length || !int.TryParse(p.AsSpan(_i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var u))
                        throw Unsupported("a '\\u' without four hex digits");
                    _i += 4;
                    return u;
            }
            if (char.IsAsciiLetterOrDigit(c)) throw Unsupported($"the escape '\\{c}'");
            _i--;
            return ReadCodePoint();
        }

        private int ReadCodePoint()
        {
            if (char.IsHighSurrogate(p[_i]) && _i + 1 < p.Length && char.IsLowSurrogate(p[_i + 1]))
            {
                var cp = char.ConvertToUtf32(p[_i], p[_i + 1]);
                _i += 2;
                return cp;
            }
            return p[_i++];
        }

        // A bracket expression after its '['; returns the regex for one code point of it.
        private string Class()
        {
            var negated = _i < p.Length && p[_i] == '^';
            if (negated) _i++;
            var items = new List<Func<int, bool>>();
            var first = true;
            while (true)
            {
                if (_i >= p.Length) throw Unsupported("an unclosed '['");
                var c = p[_i];
                if (c == ']' && !first) { _i++; break; }
                first = false;
                if (c == '[') throw Unsupported("a nested class or POSIX bracket inside '[...]'");
                if (c == '&' && _i + 1 < p.Length && p[_i + 1] == '&') throw Unsupported("class intersection '&&'");
                int lo;
                if (c == '\\')
                {
                    _i++;
                    if (_i >= p.Length) throw Unsupported("a backslash at its end");
                    var escape = ClassEscape();
                    if (escape != null) { items.Add(escape); continue; }
                    lo = p[_i] == 'b' ? Backspace() : EscapedCodePoint();
                }
                else lo = ReadCodePoint();

                if (_i + 1 < p.Length && p[_i] == '-' && p[_i + 1] != ']')
                {
                    _i++;
                    int hi;
                    if (p[_i] == '\\')
                    {
                        _i++;
                        if (ClassEscape() != null) throw Unsupported("a range ending in a class escape");
                        hi = EscapedCodePoint();
                    }
                    else hi = ReadCodePoint();
                    if (hi < lo) throw Unsupported($"the empty range U+{lo:X4}-U+{hi:X4}");
                    items.Add(cp => cp >= lo && cp <= hi);
                }
                else items.Add(cp => cp == lo);
            }
            Func<int, bool> union = cp =>
            {
                foreach (var f in items) if (f(cp)) return true;
                return false;
            };
            // Oniguruma folds case before it negates: [^a] under (?i) excludes 'A' too.
            var member = _flags.IgnoreCase ? cp => CodePointSet.AnyCaseVariant(cp, union) : union;
            return CodePointSet.Where(negated ? cp => !member(cp) : member, Limit).ToRegex(bmpOnly);
        }

        // Inside a class \b is a backspace, not a word boundary.
        private int Backspace()
        {
            _i++;
            return '\b';
        }

        private NotSupportedException Unsupported(string what) => new($"regex '{p}' uses {what}");
    }
}
