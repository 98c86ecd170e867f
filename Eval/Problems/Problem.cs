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
    string? ExampleTest = null);
