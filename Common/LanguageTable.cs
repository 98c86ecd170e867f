namespace CodeLm.Common;

/// <summary>
/// The one language table. The cleaner detects languages from it, the tokenizer and every prompt write tags with it,
/// the server maps editor language ids through it, and evaluation takes aliases, stop sequences and block style from it.
/// To add a language, add a row here; see docs/architecture.md.
/// </summary>
public static class LanguageTable
{
    private static readonly CommentSyntax Hash = CommentSyntax.Hash, Dashes = CommentSyntax.Dashes, Markup = CommentSyntax.Markup;

    /// <summary>Every row; CodeGeeX's 23 languages first, in CodeGeeX's order.</summary>
    public static IReadOnlyList<Language> All { get; } =
    [
        new("C++") { Extensions = [".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".tpp", ".inl"], LspIds = ["cpp"],
                     EvalAliases = ["c++", "cpp", "cxx"], EvalStops = ["\n}", "\nint main", "\n#include"], Blocks = BlockStyle.Braces, CodeGeeX = true },
        new("C") { Extensions = [".c", ".h"], LspIds = ["c"], CodeGeeX = true },
        new("Python") { Extensions = [".py", ".pyw", ".pyi"], Interpreters = ["python"], Comment = Hash, LspIds = ["python"],
                        EvalAliases = ["python", "py", "humaneval"], EvalStops = ["\ndef ", "\nclass ", "\nif ", "\nprint", "\n#"],
                        Blocks = BlockStyle.Indentation, CodeGeeX = true },
        new("Java") { Extensions = [".java"], LspIds = ["java"], EvalAliases = ["java"], EvalStops = ["\n}", "\npublic class Main"],
                      Blocks = BlockStyle.Braces, CodeGeeX = true },
        new("JavaScript") { Extensions = [".js", ".mjs", ".cjs", ".jsx"], Interpreters = ["node"], LspIds = ["javascript", "javascriptreact"],
                            EvalAliases = ["javascript", "js"], EvalStops = ["\n}", "\nconst test", "\nconsole.log"], Blocks = BlockStyle.Braces, CodeGeeX = true },
        new("TypeScript") { Extensions = [".ts", ".tsx", ".mts", ".cts"], Interpreters = ["deno"], LspIds = ["typescript", "typescriptreact"], CodeGeeX = true },
        new("Go") { Extensions = [".go"], LspIds = ["go"], EvalAliases = ["go", "golang"], EvalStops = ["\n}", "\nfunc Test"],
                    Blocks = BlockStyle.Braces, CodeGeeX = true },
        new("PHP") { Extensions = [".php", ".phtml"], Interpreters = ["php"], LspIds = ["php"], CodeGeeX = true },
        new("HTML") { Extensions = [".html", ".htm", ".xhtml"], Comment = Markup, LspIds = ["html"], CodeGeeX = true },
        new("Rust") { Extensions = [".rs"], LspIds = ["rust"], EvalAliases = ["rust", "rs"], EvalStops = ["\n}", "\nfn main", "\n#[cfg(test)]"],
                      Blocks = BlockStyle.Braces, CodeGeeX = true },
        new("Scala") { Extensions = [".scala", ".sc"], LspIds = ["scala"], CodeGeeX = true },
        new("Shell") { Extensions = [".sh", ".bash", ".zsh", ".ksh"], FileNames = [".bashrc", ".bash_profile", ".zshrc", ".profile"],
                       Interpreters = ["bash", "zsh", "ksh", "dash", "sh"], Comment = Hash, LspIds = ["shellscript", "sh", "bash"], CodeGeeX = true },
        new("SQL") { Extensions = [".sql"], Comment = Dashes, LspIds = ["sql"], CodeGeeX = true },
        new("CSS") { Extensions = [".css"], Comment = CommentSyntax.Block, LspIds = ["css"], CodeGeeX = true },
        new("Kotlin") { Extensions = [".kt", ".kts"], LspIds = ["kotlin"], CodeGeeX = true },
        new("Ruby") { Extensions = [".rb", ".rake", ".gemspec"], FileNames = ["Rakefile", "Gemfile", "Podfile", "Vagrantfile"], Interpreters = ["ruby"],
                      Comment = Hash, LspIds = ["ruby"], CodeGeeX = true },
        new("TeX") { Extensions = [".tex", ".sty", ".cls", ".bib"], Comment = CommentSyntax.Percent, LspIds = ["latex", "tex"], CodeGeeX = true },
        new("Lua") { Extensions = [".lua"], Interpreters = ["lua"], Comment = Dashes, LspIds = ["lua"], CodeGeeX = true },
        new("Objective-C") { Extensions = [".m", ".mm"], LspIds = ["objective-c"], CodeGeeX = true },
        new("Fortran") { Extensions = [".f", ".for", ".f77", ".f90", ".f95", ".f03", ".f08"], Comment = CommentSyntax.Bang,
                         LspIds = ["fortran", "fortran-modern"], CodeGeeX = true },
        new("Pascal") { Extensions = [".pas", ".pp", ".dpr", ".lpr"], Comment = CommentSyntax.Braces, LspIds = ["pascal"], CodeGeeX = true },
        new("CUDA") { Extensions = [".cu", ".cuh"], LspIds = ["cuda-cpp"], CodeGeeX = true },
        new("C#") { Extensions = [".cs", ".csx"], LspIds = ["csharp", "cs"], EvalAliases = ["c#", "csharp", "cs"],
                    EvalStops = ["\n}", "\npublic static class Tests"], Blocks = BlockStyle.Braces, CodeGeeX = true },

        // Beyond CodeGeeX's set.
        new("Markdown") { Extensions = [".md", ".markdown"], Comment = Markup, LspIds = ["markdown"] },
        new("JSON") { Extensions = [".json"], LspIds = ["json", "jsonc"], DataFormat = true },
        new("YAML") { Extensions = [".yml", ".yaml"], Comment = Hash, LspIds = ["yaml"], DataFormat = true },
        new("TOML") { Extensions = [".toml"], Comment = Hash, LspIds = ["toml"] },
        new("XML") { Extensions = [".xml", ".csproj", ".props", ".targets", ".xaml"], Comment = Markup, LspIds = ["xml"] },
        new("Makefile") { Extensions = [".mk"], FileNames = ["Makefile", "GNUmakefile"], Comment = Hash, LspIds = ["makefile"] },
        new("CMake") { Extensions = [".cmake"], FileNames = ["CMakeLists.txt"], Comment = Hash, LspIds = ["cmake"] },
        new("Dockerfile") { Extensions = [".dockerfile"], FileNames = ["Dockerfile", "Containerfile"], Comment = Hash, LspIds = ["dockerfile"] },
        new("SCSS") { Extensions = [".scss"] },
        new("Less") { Extensions = [".less"] },
        new("F#") { Extensions = [".fs", ".fsx", ".fsi"] },
        new("Visual Basic") { Extensions = [".vb"] },
        new("Swift") { Extensions = [".swift"] },
        new("Dart") { Extensions = [".dart"] },
        new("R") { Extensions = [".r"], Comment = Hash, LspIds = ["r"] },
        new("Perl") { Extensions = [".pl", ".pm"], Interpreters = ["perl"], Comment = Hash, LspIds = ["perl"] },
        new("Haskell") { Extensions = [".hs"], Comment = Dashes, LspIds = ["haskell"] },
        new("Julia") { Extensions = [".jl"] },
        new("Elixir") { Extensions = [".ex", ".exs"] },
        new("Erlang") { Extensions = [".erl"] },
        new("Clojure") { Extensions = [".clj"] },
        new("OCaml") { Extensions = [".ml"] },
        new("Groovy") { Extensions = [".groovy", ".gradle"], FileNames = ["Jenkinsfile"] },
        new("Starlark") { FileNames = ["BUILD", "WORKSPACE"] },
        new("PowerShell") { Extensions = [".ps1"] },
        new("Batchfile") { Extensions = [".bat", ".cmd"] },
        new("Protocol Buffers") { Extensions = [".proto"] },
        new("Vue") { Extensions = [".vue"] },
        new("Svelte") { Extensions = [".svelte"] },
        new("Zig") { Extensions = [".zig"] },
        new("Nim") { Extensions = [".nim"] },
        new("reStructuredText") { Extensions = [".rst"] },
        new("Matlab") { Comment = CommentSyntax.Percent },
    ];

    /// <summary>CodeGeeX's 23 languages, every one of which the cleaner detects.</summary>
    public static IReadOnlyList<string> CodeGeeX { get; } = [.. All.Where(l => l.CodeGeeX).Select(l => l.Name)];

    /// <summary>Shebang interpreters in table order, each with its language.</summary>
    public static IReadOnlyList<(string Interpreter, Language Language)> Interpreters { get; } =
        [.. All.SelectMany(l => l.Interpreters.Select(i => (i, l)))];

    private static readonly Dictionary<string, Language> ByName = Index(l => [l.Name]);
    private static readonly Dictionary<string, Language> ByExtension = Index(l => l.Extensions);
    private static readonly Dictionary<string, Language> ByFileName = Index(l => l.FileNames);
    private static readonly Dictionary<string, Language> ByLspId = Index(l => l.LspIds);
    private static readonly Dictionary<string, Language> ByEvalName = Index(l => l.EvalAliases.Count == 0 ? [] : [l.Name, .. l.EvalAliases]);

    private static Dictionary<string, Language> Index(Func<Language, IEnumerable<string>> keys)
    {
        var index = new Dictionary<string, Language>(StringComparer.OrdinalIgnoreCase);
        foreach (var language in All)
            foreach (var key in keys(language))
                if (!index.TryAdd(key, language) && index[key] != language)
                    throw new InvalidOperationException($"'{key}' names both {index[key].Name} and {language.Name} in the language table");
        return index;
    }

    /// <summary>The row for a display name ("c#" matches "C#"), or null.</summary>
    public static Language? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The language of a file extension with its dot (".rs"), or null.</summary>
    public static Language? FromExtension(string extension) => ByExtension.GetValueOrDefault(extension);

    /// <summary>The language of a whole file name (Makefile, Gemfile), or null.</summary>
    public static Language? FromFileName(string fileName) => ByFileName.GetValueOrDefault(fileName);

    /// <summary>The language of an editor languageId ("csharp" → "C#"); an unknown id is used as is, capitalised.</summary>
    public static string FromLspId(string languageId) =>
        ByLspId.TryGetValue(languageId, out var l) ? l.Name
        : string.IsNullOrEmpty(languageId) ? "Text" : char.ToUpperInvariant(languageId[0]) + languageId[1..];

    /// <summary>An evaluation language by display name or alias ("cpp", "HumanEval"), or null.</summary>
    public static Language? FromEvalName(string name) => ByEvalName.GetValueOrDefault(name.Trim());
}
