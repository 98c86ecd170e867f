namespace CodeLm.Server.Completion;

/// <summary>Maps an LSP languageId (VS Code's identifiers) to the corpus language name used in the language tag.</summary>
public static class LanguageIds
{
    private static readonly Dictionary<string, string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["c"] = "C", ["cpp"] = "C++", ["cuda-cpp"] = "CUDA", ["csharp"] = "C#", ["python"] = "Python", ["java"] = "Java",
        ["javascript"] = "JavaScript", ["javascriptreact"] = "JavaScript", ["typescript"] = "TypeScript",
        ["typescriptreact"] = "TypeScript", ["go"] = "Go", ["php"] = "PHP", ["html"] = "HTML", ["rust"] = "Rust",
        ["scala"] = "Scala", ["shellscript"] = "Shell", ["sql"] = "SQL", ["css"] = "CSS", ["kotlin"] = "Kotlin",
        ["ruby"] = "Ruby", ["latex"] = "TeX", ["tex"] = "TeX", ["lua"] = "Lua", ["objective-c"] = "Objective-C",
        ["fortran"] = "Fortran", ["fortran-modern"] = "Fortran", ["pascal"] = "Pascal", ["markdown"] = "Markdown",
        ["json"] = "JSON", ["jsonc"] = "JSON", ["yaml"] = "YAML", ["makefile"] = "Makefile", ["dockerfile"] = "Dockerfile",
        ["cmake"] = "CMake", ["xml"] = "XML", ["toml"] = "TOML", ["r"] = "R", ["perl"] = "Perl", ["haskell"] = "Haskell",
        ["sh"] = "Shell", ["bash"] = "Shell", ["cs"] = "C#",
    };

    /// <summary>"csharp" → "C#"; an unknown id is used as is, capitalised.</summary>
    public static string ToLanguage(string languageId) =>
        Names.TryGetValue(languageId, out var name) ? name
        : string.IsNullOrEmpty(languageId) ? "Text" : char.ToUpperInvariant(languageId[0]) + languageId[1..];
}
