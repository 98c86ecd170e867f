namespace CodeLm.Model.Generation;

/// <summary>
/// One generated sample. <see cref="Text"/> excludes the prompt, any trailing stop sequence and end-of-text;
/// <see cref="Tokens"/> counts the tokens the model generated for it (the end-of-text token not included).
/// </summary>
public sealed record Completion(string Text, int Tokens, string FinishReason /* "stop", "length", "eot", "cancelled" */)
{
    /// <summary>The generated token ids, as sampled (before stop-text trimming; without end-of-text).</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>Prompt tokens the model actually saw (after truncation to the context).</summary>
    public int PromptTokens { get; init; }
}

/// <summary>Why a sample ended.</summary>
public static class FinishReasons
{
    public const string Stop = "stop";           // a user stop sequence matched (and was trimmed)
    public const string Length = "length";       // max new tokens, or the model context is full
    public const string EndOfText = "eot";       // the model emitted <|endoftext|> (or another special token)
    public const string Cancelled = "cancelled"; // the cancellation token fired between steps
}
