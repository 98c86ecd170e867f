using System.Text;
using System.Text.RegularExpressions;

namespace CodeLm.Eval.Languages;

/// <summary>
/// Assembles a Go test file's header from what the code uses. Go rejects unused imports, so neither the prompt's import
/// block nor a fixed list can be kept: a completion that solves the problem without <c>math</c> would fail to compile.
/// HumanEval-X's harness does the same: it drops the prompt's imports and imports the helper packages the code names.
/// </summary>
public static partial class GoImports
{
    /// <summary>Package name as code writes it → import path; the standard library HumanEval-style
    /// solutions use, and testify. Names that double as common variable names (list, heap, big) stay out: a variable
    /// would be taken for the package and its import reported unused.</summary>
    private static readonly IReadOnlyDictionary<string, string> Known = new Dictionary<string, string>
    {
        ["math"] = "math", ["strings"] = "strings", ["fmt"] = "fmt", ["strconv"] = "strconv", ["sort"] = "sort",
        ["bytes"] = "bytes", ["regexp"] = "regexp", ["time"] = "time", ["unicode"] = "unicode", ["reflect"] = "reflect",
        ["errors"] = "errors", ["rand"] = "math/rand", ["md5"] = "crypto/md5", ["utf8"] = "unicode/utf8", ["testing"] = "testing",
        ["assert"] = "github.com/stretchr/testify/assert",
    };

    /// <summary>
    /// <c>package main</c>, the imports the code uses, then the code with its own package clause and imports removed.
    /// Imports of packages outside the known set are kept as written: only the code's author knows it needs them.
    /// </summary>
    public static string Assemble(string code)
    {
        var declared = ImportDecl().Matches(code).SelectMany(m => ImportPath().Matches(m.Value)).Select(m => m.Groups[1].Value);
        var body = ImportDecl().Replace(PackageClause().Replace(code, ""), "");
        var used = Used(StripCommentsAndLiterals(body)).Union(declared.Where(p => !Known.Values.Contains(p))).Order(StringComparer.Ordinal).ToList();
        var s = new StringBuilder("package main\n\n");
        if (used.Count > 0) s.Append("import (\n").AppendJoin("", used.Select(p => $"\t\"{p}\"\n")).Append(")\n");
        return s.Append(body.TrimStart('\n')).ToString();
    }

    /// <summary>Import paths of the known packages whose exported names the code refers to, sorted.</summary>
    public static IReadOnlyList<string> Used(string code) =>
        [.. Qualified().Matches(code).Select(m => m.Groups[1].Value).Distinct()
            .Where(Known.ContainsKey).Select(n => Known[n]).Order(StringComparer.Ordinal)];

    /// <summary>Code with comments and string, rune and raw literals blanked, so a package named in a comment is not imported.</summary>
    public static string StripCommentsAndLiterals(string code)
    {
        var s = new StringBuilder(code.Length);
        for (var i = 0; i < code.Length; i++)
        {
            var c = code[i];
            if (c == '/' && i + 1 < code.Length && code[i + 1] == '/') i = Skip(code, i, "\n") - 1;
            else if (c == '/' && i + 1 < code.Length && code[i + 1] == '*') i = Skip(code, i + 2, "*/") - 1;
            else if (c == '`') i = Skip(code, i + 1, "`") - 1;
            else if (c is '"' or '\'') i = SkipQuoted(code, i, c) - 1;
            else { s.Append(c); continue; }
            s.Append(' ');
        }
        return s.ToString();
    }

    // Index just past the end marker, or the end of the code.
    private static int Skip(string code, int from, string end)
    {
        var at = code.IndexOf(end, from, StringComparison.Ordinal);
        return at < 0 ? code.Length : at + (end == "\n" ? 0 : end.Length);
    }

    private static int SkipQuoted(string code, int start, char quote)
    {
        for (var i = start + 1; i < code.Length; i++)
        {
            if (code[i] == '\\') i++;
            else if (code[i] == quote || code[i] == '\n') return i + 1;
        }
        return code.Length;
    }

    [GeneratedRegex(@"^package\s+\w+[ \t]*\n?", RegexOptions.Multiline)]
    private static partial Regex PackageClause();

    [GeneratedRegex(@"^import\s*(\((?:[^)]*)\)|(?:[\w.]+\s+)?""[^""\n]*"")[ \t]*\n?", RegexOptions.Multiline)]
    private static partial Regex ImportDecl();

    [GeneratedRegex(@"""([^""\n]+)""")]
    private static partial Regex ImportPath();

    // An exported name qualified by a package: "strings.Split", not "x.strings.Y" or "s.Len".
    [GeneratedRegex(@"(?<![\w.])([a-z]\w*)\.[A-Z]")]
    private static partial Regex Qualified();
}
