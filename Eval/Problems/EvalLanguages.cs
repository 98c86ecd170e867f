using CodeLm.Common;
using CodeLm.Eval.Languages;

namespace CodeLm.Eval.Problems;

/// <summary>
/// The languages the harness can execute: those of <see cref="LanguageTable"/> with eval aliases and a
/// <see cref="LanguageRunner"/>. Names and aliases come from the table; the runners decide what runs.
/// </summary>
public static class EvalLanguages
{
    /// <summary>Names the runners and callers use in code; each is a <see cref="LanguageTable"/> row's name.</summary>
    public const string Python = "Python", CSharp = "C#", JavaScript = "JavaScript", Cpp = "C++", Java = "Java", Go = "Go", Rust = "Rust";

    public static IReadOnlyList<string> All => [.. LanguageRunner.All.Keys];

    /// <summary>The display name for a language name or alias ("cpp" → "C++"), or null when the harness cannot run it.</summary>
    public static string? Normalize(string name) =>
        LanguageTable.FromEvalName(name) is { } l && LanguageRunner.All.ContainsKey(l.Name) ? l.Name : null;

    /// <summary>A name for files and task names, as HumanEval-X names its files: "C++" → "cpp", "JavaScript" → "js", "C#" → "csharp".</summary>
    public static string Slug(string language) => language switch
    {
        Cpp => "cpp", CSharp => "csharp", JavaScript => "js", _ => language.ToLowerInvariant(),
    };

    /// <summary>The language named by a task id's prefix: "CPP/3" → "C++", "HumanEval/0" → "Python"; null when unknown.</summary>
    public static string? FromTaskId(string taskId)
    {
        var slash = taskId.IndexOf('/');
        return slash <= 0 ? null : Normalize(taskId[..slash]);
    }
}
