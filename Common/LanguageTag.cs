namespace CodeLm.Common;

/// <summary>
/// The first line written before every training document, in the language's own comment syntax
/// (`# language: Python`, `// language: C#`). Training, evaluation and the editor all build prompts with it,
/// so a user can steer generation by language.
/// </summary>
public static class LanguageTag
{
    /// <summary>The tag line without its newline, e.g. "// language: C#". Languages not in the table use `//`.</summary>
    public static string Line(string language) => CommentLine(language, $"language: {language}");

    /// <summary><paramref name="text"/> as a one-line comment of <paramref name="language"/> (`//` for languages not in the table).</summary>
    public static string CommentLine(string language, string text)
    {
        var (open, close) = LanguageTable.Find(language)?.Comment ?? CommentSyntax.Slashes;
        return $"{open}{text}{close}";
    }

    /// <summary>The text a training document starts with: the tag line and a newline.</summary>
    public static string Prefix(string language) => Line(language) + "\n";

    // Looked up by span: the trainer reads the tag of every FIM document, and this allocates nothing.
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> Openers =
        new HashSet<string>(LanguageTable.All.Select(l => l.Comment.Open.Trim()).Append(CommentSyntax.Slashes.Open.Trim()))
            .GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// The first line of <paramref name="text"/> with its newline when it is a language tag, else null. Prompt budgeting
    /// keeps it when the rest is cut, and FIM never cuts inside it.
    /// </summary>
    public static string? ReadLine(string text)
    {
        int newline = text.IndexOf('\n');
        if (newline <= 0 || newline > 80) return null;
        var line = text.AsSpan(0, newline);
        int at = line.IndexOf("language: ", StringComparison.Ordinal);
        if (at <= 0 || at > 5) return null;
        return Openers.Contains(line[..at].Trim()) ? text[..(newline + 1)] : null;
    }
}
