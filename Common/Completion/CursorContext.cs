namespace CodeLm.Common.Completion;

/// <summary>Line: finish the current line. Block: write the body of the block just opened, ending where it ends.</summary>
public enum CompletionMode { Line, Block }

/// <summary>
/// What surrounds the cursor, and the completion shape it calls for:
/// text after the cursor on its line (other than auto-closed brackets/quotes) → complete the line;
/// cursor right after a block opener, or on a blank line below one → a block; anything else → the line.
/// </summary>
public sealed record CursorContext(string Prefix, string Suffix, string LinePrefix, string LineSuffix, string NextSuffixLine, CompletionMode Mode)
{
    /// <summary>Characters an editor closes by itself; a line suffix made only of these does not pin the completion to the line.</summary>
    public const string AutoClosers = ")]}\"'`;";

    public static CursorContext Create(string text, int offset)
    {
        offset = Math.Clamp(offset, 0, text.Length);
        var prefix = text[..offset];
        var suffix = text[offset..];
        var lineStart = prefix.LastIndexOfAny(['\n', '\r']) + 1;
        var linePrefix = prefix[lineStart..];
        var lineEnd = suffix.IndexOfAny(['\n', '\r']);
        var lineSuffix = lineEnd < 0 ? suffix : suffix[..lineEnd];
        var nextLine = lineEnd < 0 ? "" : FirstNonBlankLine(suffix[lineEnd..]);

        var mode = CompletionMode.Line;
        if (IsOnlyAutoClosers(lineSuffix))
        {
            if (string.IsNullOrWhiteSpace(linePrefix) && EndsWithOpener(LastNonBlankLine(prefix[..lineStart]))) mode = CompletionMode.Block;
            else if (EndsWithOpener(linePrefix, bracketsOpenBlocks: false)) mode = CompletionMode.Block;
        }
        return new CursorContext(prefix, suffix, linePrefix, lineSuffix, nextLine, mode);
    }

    /// <summary>True when <paramref name="s"/> is blank or holds only auto-closed characters and whitespace.</summary>
    public static bool IsOnlyAutoClosers(string s)
    {
        foreach (var c in s)
            if (!char.IsWhiteSpace(c) && !AutoClosers.Contains(c)) return false;
        return true;
    }

    /// <summary>
    /// `{`, `:` (Python and friends), `=>`, `->`, a trailing `do`/`then`, and `(`/`[` when <paramref name="bracketsOpenBlocks"/>
    /// (on the line above the cursor they open a multi-line list; right before the cursor they are an argument list).
    /// </summary>
    public static bool EndsWithOpener(string line, bool bracketsOpenBlocks = true)
    {
        var t = StripLineComment(line).TrimEnd();
        if (t.Length == 0) return false;
        var last = t[^1];
        if (last is '{' or ':' || (bracketsOpenBlocks && last is '(' or '[')) return true;
        return t.EndsWith("=>", StringComparison.Ordinal) || t.EndsWith("->", StringComparison.Ordinal)
            || t.EndsWith(" do", StringComparison.Ordinal) || t.EndsWith(" then", StringComparison.Ordinal);
    }

    /// <summary>Indentation width with a tab as four columns.</summary>
    public static int IndentWidth(string line)
    {
        var w = 0;
        foreach (var c in line)
        {
            if (c == ' ') w++;
            else if (c == '\t') w += 4 - w % 4;
            else break;
        }
        return w;
    }

    private static string StripLineComment(string line)
    {
        // Good enough for the opener check: a `//` or ` #` comment after code does not end the statement.
        var i = line.IndexOf("//", StringComparison.Ordinal);
        if (i >= 0 && !line.AsSpan(0, i).Contains("://", StringComparison.Ordinal)) line = line[..i];
        var h = line.IndexOf(" #", StringComparison.Ordinal);
        return h >= 0 ? line[..h] : line;
    }

    private static string LastNonBlankLine(string text)
    {
        foreach (var line in text.Split('\n').Reverse())
            if (!string.IsNullOrWhiteSpace(line)) return line.TrimEnd('\r');
        return "";
    }

    private static string FirstNonBlankLine(string text)
    {
        foreach (var line in text.Split('\n'))
            if (!string.IsNullOrWhiteSpace(line)) return line.TrimEnd('\r');
        return "";
    }
}
