using System.Text.RegularExpressions;
using CodeLm.Tokenizer.Hf;

namespace CodeLm.Tokenizer;

/// <summary>
/// How a tokenizer CodeLm trains splits text before BPE (the pieces merges never cross). <see cref="CodeLm"/> is
/// <see cref="CodePreTokenizer"/>, tuned for code; <see cref="Qwen2"/> is Qwen2's split (Qwen2.5-Coder's tokenizer.json),
/// which llama.cpp has compiled in, so a model with such a tokenizer tokenizes in llama.cpp exactly as in CodeLm. The
/// two differ where CodeLm keeps '_' inside identifiers and a run of tabs before code whole (docs/model.md).
/// </summary>
public enum SplitRule { CodeLm, Qwen2 }

public static class SplitRules
{
    /// <summary>Qwen2's split regex, as its tokenizer.json spells it (Oniguruma syntax, HF tokenizers' semantics).</summary>
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The regex tokenizer.json carries for <paramref name="rule"/>.</summary>
    public static string Pattern(SplitRule rule) => rule switch
    {
        SplitRule.CodeLm => CodePreTokenizer.Pattern,
        SplitRule.Qwen2 => Qwen2Pattern,
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, null),
    };

    /// <summary>The rule whose regex is <paramref name="pattern"/>, or null.</summary>
    public static SplitRule? Of(string pattern) =>
        pattern == CodePreTokenizer.Pattern ? SplitRule.CodeLm : pattern == Qwen2Pattern ? SplitRule.Qwen2 : null;

    /// <summary>The pieces of <paramref name="text"/> (well-formed UTF-16), as ranges, in order and covering it.</summary>
    public static Pieces Split(SplitRule rule, ReadOnlySpan<char> text) => new(rule, text);

    /// <summary>Enumerates pieces without allocating (a ref struct, for spans).</summary>
    public ref struct Pieces
    {
        private readonly ReadOnlySpan<char> _text;
        private readonly bool _regex;
        private Regex.ValueMatchEnumerator _matches;
        private int _at, _matchStart, _matchEnd;

        internal Pieces(SplitRule rule, ReadOnlySpan<char> text)
        {
            _text = text;
            _regex = rule == SplitRule.Qwen2;
            if (_regex) _matches = OnigRegex.Get(Qwen2Pattern).For(text).EnumerateMatches(text);
            _matchStart = -1;
        }

        public Range Current { get; private set; }

        public readonly Pieces GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_at >= _text.Length) return false;
            if (!_regex) return Take(CodePreTokenizer.NextPieceEnd(_text, _at));
            if (_matchStart == _at) { _matchStart = -1; return Take(_matchEnd); }
            while (_matches.MoveNext())
            {
                var m = _matches.Current;
                if (m.Length == 0) continue; // no alternative of Qwen2's matches empty text; an empty match would cut nothing
                if (m.Index == _at) return Take(m.Index + m.Length);
                // Text between matches is a piece of its own, as HF's Isolated split leaves it.
                (_matchStart, _matchEnd) = (m.Index, m.Index + m.Length);
                return Take(m.Index);
            }
            return Take(_text.Length);
        }

        private bool Take(int end)
        {
            Current = _at..end;
            _at = end;
            return true;
        }
    }
}
