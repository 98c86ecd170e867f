using CodeLm.Server.Protocol;

namespace CodeLm.Server.Documents;

/// <summary>
/// An open document's text and version. Positions are LSP positions in UTF-16 code units, which is what a .NET string
/// indexes, so a position maps to a string offset by counting lines; line breaks are `\n`, `\r\n` or `\r` as in the spec.
/// </summary>
public sealed class TextDocument(string uri, string languageId, int version, string text)
{
    public string Uri { get; } = uri;
    public string LanguageId { get; } = languageId;
    public int Version { get; private set; } = version;
    public string Text { get; private set; } = text;

    /// <summary>Applies changes in order (each range refers to the text after the previous change).</summary>
    public void Apply(int version, IReadOnlyList<TextDocumentContentChangeEvent> changes)
    {
        var text = Text;
        foreach (var change in changes)
        {
            if (change.Range == null) { text = change.Text ?? ""; continue; }
            var from = OffsetOf(text, change.Range.Start);
            var to = OffsetOf(text, change.Range.End);
            if (to < from) (from, to) = (to, from);
            text = string.Concat(text.AsSpan(0, from), change.Text ?? "", text.AsSpan(to));
        }
        Text = text;
        Version = version;
    }

    /// <summary>
    /// The offset of a position. A character past the end of its line means the end of the line and a line past the
    /// end of the text means the end of the text (both as the spec asks); negative values count as zero.
    /// </summary>
    public static int OffsetOf(string text, Position position)
    {
        var line = Math.Max(0, position.Line);
        var offset = 0;
        for (var l = 0; l < line; l++)
        {
            var next = NextLineStart(text, offset);
            if (next < 0) return text.Length;
            offset = next;
        }
        var lineEnd = LineEnd(text, offset);
        return Math.Min(offset + Math.Max(0, position.Character), lineEnd);
    }

    /// <summary>The position of an offset (clamped to the text).</summary>
    public static Position PositionOf(string text, int offset)
    {
        offset = Math.Clamp(offset, 0, text.Length);
        int line = 0, lineStart = 0;
        while (true)
        {
            var next = NextLineStart(text, lineStart);
            if (next < 0 || next > offset) break;
            line++;
            lineStart = next;
        }
        return new Position(line, offset - lineStart);
    }

    /// <summary>The offset just past the line break that ends the line starting at <paramref name="lineStart"/>, or -1.</summary>
    private static int NextLineStart(string text, int lineStart)
    {
        var i = text.AsSpan(lineStart).IndexOfAny('\n', '\r');
        if (i < 0) return -1;
        i += lineStart;
        return text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? i + 2 : i + 1;
    }

    private static int LineEnd(string text, int lineStart)
    {
        var i = text.AsSpan(lineStart).IndexOfAny('\n', '\r');
        return i < 0 ? text.Length : lineStart + i;
    }
}
