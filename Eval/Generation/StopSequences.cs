using CodeLm.Common;

namespace CodeLm.Eval.Generation;

/// <summary>
/// Per-language stop sequences, from the language table. Python uses Codex's set (a new top-level def/class/if/print/comment
/// ends the function). Brace languages stop at a closing brace in column 0, which ends the function (C++, JavaScript, Go)
/// or the class that holds it (Java, C#); <see cref="CompletionTruncation"/> then closes whatever is still open.
/// </summary>
public static class StopSequences
{
    public static IReadOnlyList<string> For(string language) => LanguageTable.Find(language)?.EvalStops ?? [];
}
