namespace CodeLm.Common;

/// <summary>A line comment, or a block comment's two ends, as a language writes it around a tag.</summary>
public readonly record struct CommentSyntax(string Open, string Close)
{
    public static readonly CommentSyntax Slashes = new("// ", ""), Hash = new("# ", ""), Dashes = new("-- ", ""),
        Markup = new("<!-- ", " -->"), Block = new("/* ", " */"), Percent = new("% ", ""), Bang = new("! ", ""),
        Braces = new("{ ", " }");
}

/// <summary>Where a generated function body ends: at a dedent to column 0, or where the open braces close.</summary>
public enum BlockStyle { Unknown, Indentation, Braces }

/// <summary>
/// One row of <see cref="LanguageTable"/>: everything CodeLm knows about a language, keyed by its display name (CodeGeeX's
/// names: "C++", "C#", "Python"), which is also what corpus rows, shards, tags and eval problems carry.
/// </summary>
public sealed record Language(string Name)
{
    /// <summary>File extensions with their dot, matched case-insensitively.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];
    /// <summary>Whole file names (Makefile, Gemfile) that name the language without an extension.</summary>
    public IReadOnlyList<string> FileNames { get; init; } = [];
    /// <summary>Shebang interpreters, matched as prefixes ("python" covers python3).</summary>
    public IReadOnlyList<string> Interpreters { get; init; } = [];
    public CommentSyntax Comment { get; init; } = CommentSyntax.Slashes;
    /// <summary>The editor's languageId values (VS Code's identifiers).</summary>
    public IReadOnlyList<string> LspIds { get; init; } = [];
    /// <summary>Names a user or a task id may use for it in evaluation (besides <see cref="Name"/>); empty: not an eval language.</summary>
    public IReadOnlyList<string> EvalAliases { get; init; } = [];
    /// <summary>Where a sampled eval completion stops: text that starts the next top-level item.</summary>
    public IReadOnlyList<string> EvalStops { get; init; } = [];
    public BlockStyle Blocks { get; init; }
    /// <summary>One of the 23 languages of CodeGeeX's training set.</summary>
    public bool CodeGeeX { get; init; }
    /// <summary>Mostly data, not code (JSON, YAML): such files get the data-heavy filter.</summary>
    public bool DataFormat { get; init; }
}
