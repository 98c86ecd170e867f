using System.Text.RegularExpressions;

namespace CodeLm.Server.Context;

/// <summary>The identifiers of some code, as a set: what snippets are compared by (Jaccard similarity).</summary>
public static partial class CodeIdentifiers
{
    // Keywords and names every file has say nothing about which file is related.
    private static readonly HashSet<string> Common = new(StringComparer.Ordinal)
    {
        "abstract", "and", "as", "async", "await", "bool", "break", "case", "catch", "char", "class", "const", "continue",
        "def", "default", "defer", "del", "do", "double", "elif", "else", "enum", "err", "export", "extends", "false", "final",
        "finally", "float", "fn", "for", "from", "func", "function", "go", "if", "impl", "implements", "import", "in", "int",
        "interface", "is", "let", "long", "match", "mod", "mut", "namespace", "new", "nil", "none", "None", "not", "null",
        "object", "or", "override", "package", "pass", "private", "protected", "pub", "public", "raise", "readonly", "return",
        "self", "Self", "static", "string", "struct", "super", "switch", "this", "throw", "throws", "trait", "true", "True",
        "False", "try", "type", "typeof", "use", "using", "var", "virtual", "void", "while", "with", "yield",
    };

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Word();

    /// <summary>Identifiers of two characters or more, keywords left out.</summary>
    public static HashSet<string> Of(string text)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in Word().EnumerateMatches(text))
            if (m.Length >= 2)
            {
                var w = text.Substring(m.Index, m.Length);
                if (!Common.Contains(w)) set.Add(w);
            }
        return set;
    }

    /// <summary>|a ∩ b| / |a ∪ b|; 0 when both are empty.</summary>
    public static double Jaccard(HashSet<string> a, HashSet<string> b)
    {
        if (a.Count == 0 && b.Count == 0) return 0;
        var (small, large) = a.Count <= b.Count ? (a, b) : (b, a);
        var shared = small.Count(large.Contains);
        return (double)shared / (a.Count + b.Count - shared);
    }
}
