using System.Text.RegularExpressions;

namespace CodeLm.Server.Context;

/// <summary>A piece of a file that may go into the prompt: where it is, its text and its identifiers.</summary>
public sealed record Snippet(string Path, int StartLine, int LineCount, string Text, HashSet<string> Identifiers)
{
    /// <summary>A window of lines, not a definition.</summary>
    public bool IsWindow { get; init; }
}

/// <summary>
/// A file cut for retrieval: overlapping windows of lines (Tabby's recent-snippets approach), and the declarations it
/// makes (a `def`/`class`/`func`/`fn`/`function`/type line, or a C-family method or type head), by name: whole when
/// short, else the head alone, as Tabby's declarations are. Built once per document version.
/// </summary>
public sealed partial class CodeSnippets
{
    public const int WindowLines = 12, WindowStride = 6, MaxDefinitionLines = 15;

    /// <summary>A definition this short goes whole; a longer one as its head (signature) only, so many fit in the budget.</summary>
    public const int WholeDefinitionLines = 6, MaxHeadLines = 4;

    public IReadOnlyList<Snippet> Windows { get; }
    public IReadOnlyDictionary<string, Snippet> Definitions { get; }

    [GeneratedRegex(@"^\s*(?:export\s+|pub(?:\(crate\))?\s+|async\s+|static\s+|abstract\s+|public\s+|private\s+|protected\s+|internal\s+|sealed\s+|partial\s+|final\s+)*(?:def|class|func|fn|function|interface|struct|enum|trait|type|record)\s+(?:\([^)]*\)\s*)?([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex KeywordDeclaration();

    // A C#/Java/C++ method or constructor head: a return type (or modifiers) and a name before "(", not a call.
    [GeneratedRegex(@"^\s*(?:(?:public|private|protected|internal|static|virtual|override|async|sealed|final|abstract|inline|const|unsafe|extern)\s+)*(?<type>[A-Za-z_][\w<>\[\],.?*&:]*)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\([^;]*$")]
    private static partial Regex MethodHead();

    // Statements that look like "type name(" but call something: `return f(x)`, `with open(p) as f:`, `await g()`.
    private static readonly HashSet<string> NotATypeName = new(StringComparer.Ordinal)
    {
        "return", "with", "await", "new", "else", "throw", "yield", "if", "while", "for", "foreach", "switch", "case", "not",
        "and", "or", "in", "is", "lambda", "del", "assert", "raise", "import", "from", "go", "defer", "print", "echo", "using",
        "lock", "catch", "when", "elif", "except", "async", "typeof", "sizeof", "delete", "goto",
    };

    // A top-level JavaScript/TypeScript/Go binding: const x = ..., var x = ...
    [GeneratedRegex(@"^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*[:=]")]
    private static partial Regex Binding();

    public CodeSnippets(string path, string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var windows = new List<Snippet>();
        for (var start = 0; start < lines.Length; start += WindowStride)
        {
            var count = Math.Min(WindowLines, lines.Length - start);
            var body = string.Join('\n', lines, start, count);
            if (!string.IsNullOrWhiteSpace(body)) windows.Add(new Snippet(path, start, count, body, CodeIdentifiers.Of(body)) { IsWindow = true });
            if (start + WindowLines >= lines.Length) break;
        }
        Windows = windows;
        var definitions = new Dictionary<string, Snippet>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var m = KeywordDeclaration().Match(lines[i]);
            if (!m.Success && MethodHead().Match(lines[i]) is { Success: true } head && !NotATypeName.Contains(head.Groups["type"].Value)
                && !lines[i].TrimEnd().EndsWith(':')) m = head;
            if (!m.Success) m = Binding().Match(lines[i]);
            if (!m.Success || definitions.ContainsKey(m.Groups[1].Value)) continue;
            var count = BodyLines(lines, i);
            if (count > WholeDefinitionLines) count = HeadLines(lines, i);
            var body = string.Join('\n', lines, i, count);
            definitions[m.Groups[1].Value] = new Snippet(path, i, count, body, CodeIdentifiers.Of(body));
        }
        Definitions = definitions;
    }

    /// <summary>
    /// The declaration line and the lines after it that are blank or indented deeper, through a closing brace at its
    /// indentation (an opening brace on the next line, C# style, belongs to it).
    /// </summary>
    private static int BodyLines(string[] lines, int at)
    {
        var indent = Indent(lines[at]);
        var end = at + 1;
        while (end < lines.Length && end - at < MaxDefinitionLines)
        {
            var line = lines[end];
            var trimmed = line.TrimStart();
            if (trimmed.Length > 0 && Indent(line) <= indent)
            {
                if (end == at + 1 && trimmed.StartsWith('{')) { end++; continue; }
                if (trimmed.StartsWith('}') || trimmed.StartsWith(')')) end++;
                break;
            }
            end++;
        }
        while (end - 1 > at && string.IsNullOrWhiteSpace(lines[end - 1])) end--;
        return end - at;
    }

    /// <summary>The declaration's head: its line and the lines continuing it (parameters over several lines), up to where the body opens.</summary>
    private static int HeadLines(string[] lines, int at)
    {
        var end = at;
        while (end < lines.Length && end - at < MaxHeadLines)
        {
            var t = lines[end++].TrimEnd();
            if (t.EndsWith(':') || t.EndsWith('{') || t.EndsWith(')') || t.EndsWith(';') || t.EndsWith("=>") || t.EndsWith('>')) break;
        }
        return end - at;
    }

    private static int Indent(string line) => line.Length - line.TrimStart().Length;
}
