namespace CodeLm.Tokenizer.Text;

/// <summary>
/// The first line written before every training document, in the language's own comment syntax
/// (`# language: Python`, `// language: C#`). Training, evaluation and the editor all build prompts with it,
/// so a user can steer generation by language.
/// </summary>
public static class LanguageTag
{
    private static readonly Dictionary<string, (string Open, string Close)> Comment = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Python"] = ("# ", ""), ["Shell"] = ("# ", ""), ["Ruby"] = ("# ", ""), ["Makefile"] = ("# ", ""),
        ["Dockerfile"] = ("# ", ""), ["CMake"] = ("# ", ""), ["YAML"] = ("# ", ""), ["TOML"] = ("# ", ""), ["R"] = ("# ", ""),
        ["Perl"] = ("# ", ""),
        ["SQL"] = ("-- ", ""), ["Lua"] = ("-- ", ""), ["Haskell"] = ("-- ", ""),
        ["HTML"] = ("<!-- ", " -->"), ["XML"] = ("<!-- ", " -->"), ["Markdown"] = ("<!-- ", " -->"),
        ["CSS"] = ("/* ", " */"),
        ["TeX"] = ("% ", ""), ["Matlab"] = ("% ", ""),
        ["Fortran"] = ("! ", ""),
        ["Pascal"] = ("{ ", " }"),
    };

    /// <summary>The tag line without its newline, e.g. "// language: C#". Languages not listed use `//`.</summary>
    public static string Line(string language)
    {
        var (open, close) = Comment.TryGetValue(language, out var c) ? c : ("// ", "");
        return $"{open}language: {language}{close}";
    }

    /// <summary>The text a training document starts with: the tag line and a newline.</summary>
    public static string Prefix(string language) => Line(language) + "\n";
}
