using CodeLm.Common;

namespace CodeLm.Tokenizer;

/// <summary>Part of another file of the repository, read before the prompt: its path in the repository and the text.</summary>
public sealed record ContextFile(string Path, string Text);

/// <summary>
/// The one repository-context layout: other files of the repository before the file being written, in the format the
/// model learned (<see cref="RepoLayout"/>). Qwen2.5-Coder: <c>&lt;|repo_name|&gt;repo\n</c>, then per file
/// <c>&lt;|file_sep|&gt;path\ntext\n</c>, then <c>&lt;|file_sep|&gt;current path\n</c> before the FIM prompt. StarCoder2: the same
/// without the newlines after the name and the text. CodeLm's own models: each file under a comment naming its path
/// (<c># file: util/io.py</c>), placed after the language tag at the start of the prefix, where it reads as code above.
/// </summary>
public static class RepoContext
{
    /// <summary>The comment line naming a file, e.g. "# file: util/io.py".</summary>
    public static string Header(string language, string path) => LanguageTag.CommentLine(language, $"file: {path}");

    /// <summary>
    /// The files, in the order given, that fit <paramref name="budget"/> tokens together with the current file's marker
    /// (a file too long for what is left is skipped, a shorter one after it may still fit), and their ids.
    /// </summary>
    public static (IReadOnlyList<ContextFile> Files, int[] Ids) Pack(CodeTokenizer t, IReadOnlyList<ContextFile> ranked, int budget,
        string repoName, string currentPath, string language)
    {
        if (ranked.Count == 0 || budget <= 0) return ([], []);
        var head = Head(t, repoName);
        var tail = Tail(t, currentPath);
        var used = head.Length + tail.Length;
        var kept = new List<ContextFile>();
        var body = new List<int>();
        foreach (var f in ranked)
        {
            var piece = Piece(t, f, language);
            if (used + piece.Length > budget) continue;
            used += piece.Length;
            kept.Add(f);
            body.AddRange(piece);
        }
        return kept.Count == 0 ? ([], []) : (kept, [.. head, .. body, .. tail]);
    }

    /// <summary>The ids of <paramref name="files"/> as <see cref="Pack"/> lays them out (all of them, no budget).</summary>
    public static int[] Encode(CodeTokenizer t, IReadOnlyList<ContextFile> files, string repoName, string currentPath, string language) =>
        files.Count == 0 ? [] : [.. Head(t, repoName), .. files.SelectMany(f => Piece(t, f, language)), .. Tail(t, currentPath)];

    /// <summary>Whether the context goes before the FIM prompt (repository tokens) or into the prefix (comment headers).</summary>
    public static bool BeforeFim(CodeTokenizer t) => t.RepoLayout != RepoLayout.CommentHeaders;

    private static int[] Head(CodeTokenizer t, string repoName) => t.RepoLayout switch
    {
        RepoLayout.Qwen => [.. Marker(t.RepoName), .. t.Encode(repoName + "\n")],
        RepoLayout.StarCoder2 => [.. Marker(t.RepoName), .. t.Encode(repoName)],
        _ => [],
    };

    private static int[] Piece(CodeTokenizer t, ContextFile f, string language) => t.RepoLayout switch
    {
        RepoLayout.Qwen => [t.FileSeparator!.Value, .. t.Encode(f.Path + "\n" + f.Text.TrimEnd('\n') + "\n")],
        RepoLayout.StarCoder2 => [t.FileSeparator!.Value, .. t.Encode(f.Path + "\n" + f.Text.TrimEnd('\n'))],
        _ => t.Encode(Header(language, f.Path) + "\n" + f.Text.TrimEnd('\n') + "\n"),
    };

    private static int[] Tail(CodeTokenizer t, string currentPath) =>
        BeforeFim(t) ? [t.FileSeparator!.Value, .. t.Encode(currentPath + "\n")] : [];

    private static int[] Marker(int? id) => id is { } i ? [i] : [];
}
