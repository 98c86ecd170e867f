using CodeLm.Common;

namespace CodeLm.Server.Completion;

/// <summary>A fill-in-the-middle prompt (laid out in the model's FIM format by the engine): <see cref="Prefix"/> already starts with the language tag line.</summary>
public sealed record CompletionPrompt(string Prefix, string Suffix, string Language);

/// <summary><paramref name="Fim"/>: the order the engine lays the prompt out in (<see cref="FimLayout"/>).</summary>
public sealed record EngineOptions(int MaxNewTokens, float Temperature, FimFormat Fim = FimFormat.Psm);

/// <summary>
/// What the server needs from a model: count tokens (for the prompt budget) and fill in the middle.
/// Production uses the Generator over a checkpoint; the protocol layer depends only on this.
/// </summary>
public interface ICompletionEngine
{
    /// <summary>Tokens the model attends to (prompt plus generated).</summary>
    int ContextLength { get; }

    int CountTokens(string text);

    /// <summary>
    /// The generated middle. Generation ends at end-of-text, at <see cref="EngineOptions.MaxNewTokens"/>, or as soon as
    /// <paramref name="shouldStop"/> returns true for the text so far. Throws <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    string Complete(CompletionPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct);
}
