namespace CodeLm.Tokenizer;

/// <summary>The special tokens, ids 0..4 in this order. They are never produced from plain text.</summary>
public static class SpecialTokens
{
    public const string EndOfText = "<|endoftext|>";
    public const string FimPrefix = "<fim_prefix>";
    public const string FimMiddle = "<fim_middle>";
    public const string FimSuffix = "<fim_suffix>";
    public const string FimPad = "<fim_pad>";

    public static IReadOnlyList<string> All { get; } = [EndOfText, FimPrefix, FimMiddle, FimSuffix, FimPad];

    /// <summary>Id of the first byte token; byte b has id <c>FirstByteId + b</c>, and merges follow from 261 on.</summary>
    public const int FirstByteId = 5;
}
