namespace CodeLm.Model.Generation;

/// <summary>
/// One generated sample. <see cref="Text"/> excludes the prompt, any trailing stop sequence and end-of-text;
/// <see cref="Tokens"/> counts the tokens the model generated for it (the end-of-text token not included).
/// </summary>
public sealed record Completion(string Text, int Tokens, FinishReason FinishReason)
{
    /// <summary>The generated token ids, as sampled (before stop-text trimming; without end-of-text).</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>Prompt tokens the model actually saw (after truncation to the context).</summary>
    public int PromptTokens { get; init; }
}

/// <summary>Why a sample ended.</summary>
public enum FinishReason
{
    Stop,      // a stop sequence matched (and was trimmed), or the caller's text callback asked to stop
    Length,    // max new tokens, or the model context is full
    EndOfText, // the model emitted <|endoftext|> (or another special token)
    Cancelled, // the cancellation token fired between steps
}

public static class FinishReasons
{
    /// <summary>The name `codelm sample --json` and the quickstart report print: stop, length, eot, cancelled.</summary>
    public static string Name(this FinishReason reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.EndOfText => "eot",
        FinishReason.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };
}
