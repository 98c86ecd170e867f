using CodeLm.Common.Completion;

namespace CodeLm.Eval.Problems;

/// <summary>
/// One HumanEval-style problem. <see cref="Prompt"/> is what the model sees, <see cref="CanonicalSolution"/> completes it,
/// and <see cref="Test"/> checks it. For plain HumanEval (Python) the harness calls <c>check(EntryPoint)</c> after the test;
/// HumanEval-X tests carry their own driver (a <c>main</c>, a <c>Main</c> class, a call at the end).
/// </summary>
public sealed record Problem(
    string TaskId,
    string Language,
    string Prompt,
    string CanonicalSolution,
    string Test,
    string EntryPoint,
    string? Declaration = null,
    string? ExampleTest = null)
{
    /// <summary>
    /// For an infilling task: the text after the hole (the program is prompt + completion + suffix + test) and how the
    /// editor would shape a completion there.
    /// </summary>
    public InfillSite? Infill { get; init; }

    /// <summary>What the model is given when it is not the tagged prompt (translation: the source program, then the target's declaration).</summary>
    public string? ModelPrompt { get; init; }
}

/// <summary>The hole of an infilling task: <see cref="Suffix"/> follows it, <see cref="Mode"/> is the editor's line or block completion.</summary>
public sealed record InfillSite(string Suffix, CompletionMode Mode);
