namespace CodeLm.Eval.Problems;

/// <summary>The languages the harness executes, by CodeGeeX display name, and the task-id prefixes that name them.</summary>
public static class EvalLanguages
{
    public const string Python = "Python", CSharp = "C#", JavaScript = "JavaScript", Cpp = "C++", Java = "Java", Go = "Go";

    public static IReadOnlyList<string> All { get; } = [Python, CSharp, JavaScript, Cpp, Java, Go];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["python"] = Python, ["py"] = Python, ["humaneval"] = Python,
        ["c#"] = CSharp, ["csharp"] = CSharp, ["cs"] = CSharp,
        ["javascript"] = JavaScript, ["js"] = JavaScript,
        ["c++"] = Cpp, ["cpp"] = Cpp, ["cxx"] = Cpp,
        ["java"] = Java,
        ["go"] = Go, ["golang"] = Go,
    };

    /// <summary>The display name for a language name or alias ("cpp" → "C++"), or null when the harness cannot run it.</summary>
    public static string? Normalize(string name) => Aliases.TryGetValue(name.Trim(), out var n) ? n : null;

    /// <summary>The language named by a task id's prefix: "CPP/3" → "C++", "HumanEval/0" → "Python"; null when unknown.</summary>
    public static string? FromTaskId(string taskId)
    {
        var slash = taskId.IndexOf('/');
        return slash <= 0 ? null : Normalize(taskId[..slash]);
    }
}
