namespace CodeLm.Eval.Generation;

/// <summary>
/// Where completions come from: the model's Generator in production (an adapter in the composition root, CodeLm.Pipeline), anything
/// else in tests or for other models. Returns <paramref name="n"/> continuations of <paramref name="prompt"/>, each cut
/// before the first of <paramref name="stop"/>.
/// </summary>
public interface ICompletionSource
{
    IReadOnlyList<string> Complete(string prompt, int n, IReadOnlyList<string> stop, CancellationToken ct);

    /// <summary>
    /// <paramref name="n"/> middles between <paramref name="prefix"/> and <paramref name="suffix"/> (fill-in-the-middle),
    /// each ended as soon as <paramref name="shouldStop"/> holds for its text so far, as the editor's requests are.
    /// </summary>
    IReadOnlyList<string> Infill(string prefix, string suffix, int n, Func<string, bool> shouldStop, CancellationToken ct);
}
