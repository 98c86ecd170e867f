namespace CodeLm.Eval.Generation;

/// <summary>
/// Where completions come from: the model's Generator in production (an adapter in the composition root, CodeLm.Pipeline), anything
/// else in tests or for other models. Returns <paramref name="n"/> continuations of <paramref name="prompt"/>, each cut
/// before the first of <paramref name="stop"/>.
/// </summary>
public interface ICompletionSource
{
    IReadOnlyList<string> Complete(string prompt, int n, IReadOnlyList<string> stop, CancellationToken ct);
}
