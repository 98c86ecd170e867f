namespace CodeLm.Common.Completion;

/// <summary>A completion ready for the editor: insert <see cref="InsertText"/> over the cursor plus the next <see cref="ReplaceLength"/> characters.</summary>
public sealed record ShapedCompletion(string InsertText, int ReplaceLength);

/// <summary>
/// Post-processing between the model's raw middle and what the editor shows: cut to the line or to the end of the block
/// by indentation, never repeat what follows the cursor, take over auto-closed brackets instead of doubling them, and
/// drop results not worth showing; text from a character the model broke on is cut.
/// </summary>
public static class CompletionShaper
{
    /// <summary>Results with fewer non-blank characters than this are not worth a suggestion.</summary>
    public const int MinVisibleChars = 2;

    /// <summary>True once <paramref name="generated"/> has passed the point where <see cref="Shape"/> would cut (so generation can stop).</summary>
    public static bool ShouldStop(CursorContext ctx, string generated)
    {
        if (ctx.Mode == CompletionMode.Line) return generated.AsSpan().IndexOfAny('\n', '\r') >= 0;
        var complete = generated.LastIndexOf('\n');
        return complete >= 0 && BlockCut(ctx, Lines(generated[..complete])) != null;
    }

    /// <summary>The completion to show, or null when there is nothing worth showing.</summary>
    public static ShapedCompletion? Shape(CursorContext ctx, string raw)
    {
        var text = raw.Replace("\r\n", "\n").Replace('\r', '\n');
        // U+FFFD: the model stopped, or strayed, mid-character (byte-level tokens); what follows it is not text to insert.
        var broken = text.IndexOf('\uFFFD');
        if (broken >= 0) text = text[..broken];
        if (ctx.Mode == CompletionMode.Line)
        {
            var nl = text.IndexOf('\n');
            if (nl >= 0) text = text[..nl];
        }
        else
        {
            var lines = Lines(text);
            var keep = BlockCut(ctx, lines) ?? lines.Count;
            text = string.Join('\n', lines.Take(keep));
        }
        text = text.TrimEnd();

        var replace = 0;
        var lineSuffix = ctx.LineSuffix.TrimEnd();
        if (lineSuffix.Length > 0)
        {
            if (CursorContext.IsOnlyAutoClosers(lineSuffix))
            {
                // The editor already closed these: if the completion closes them too, take them over (extend the range).
                for (var k = lineSuffix.Length; k > 0; k--)
                    if (text.EndsWith(lineSuffix[..k], StringComparison.Ordinal)) { replace = k; break; }
            }
            else if (text.EndsWith(lineSuffix.TrimStart(), StringComparison.Ordinal))
            {
                text = text[..^lineSuffix.TrimStart().Length].TrimEnd();
            }
        }

        var visible = text.Count(c => !char.IsWhiteSpace(c));
        if (visible == 0) return null;
        if (visible < MinVisibleChars && !text.Contains('\n')) return null;
        if (replace > 0 && text == ctx.LineSuffix[..replace]) return null; // only retypes what is already there
        return new ShapedCompletion(text, replace);
    }

    /// <summary>
    /// The number of lines to keep in block mode, or null when no cut is determined yet. The block ends at the first line
    /// indented less than the block body (kept when it is a closing line the suffix does not already have), or at a line
    /// that repeats the next line of the suffix.
    /// </summary>
    private static int? BlockCut(CursorContext ctx, List<string> lines)
    {
        var linePrefixBlank = string.IsNullOrWhiteSpace(ctx.LinePrefix);
        var cursorColumn = CursorContext.IndentWidth(ctx.LinePrefix) + (linePrefixBlank ? 0 : 1);
        int? body = null;
        var next = ctx.NextSuffixLine.TrimEnd();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (i == 0 && !linePrefixBlank) continue; // the rest of the opener's line
            var width = i == 0 ? cursorColumn + CursorContext.IndentWidth(line) : CursorContext.IndentWidth(line);
            if (i > 0 && next.Length > 0 && line.TrimEnd() == next) return i;
            if (body == null) { body = width; continue; }
            if (width < body)
                return IsClosingLine(line) && line.Trim() != next.Trim() ? i + 1 : i;
        }
        return null;
    }

    private static bool IsClosingLine(string line)
    {
        var t = line.Trim();
        if (t is "end" or "end;" or "fi" or "done" or "esac") return true;
        return t.Length > 0 && t[0] is '}' or ')' or ']' && t.All(c => ")]};,".Contains(c));
    }

    private static List<string> Lines(string text) => [.. text.Split('\n')];
}
