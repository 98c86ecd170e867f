namespace CodeLm.Model.Training;

/// <summary>
/// What the trainer reads: the two splits, the sentinels, a text codec for FIM (null disables FIM), the tokenizer
/// directory copied into checkpoints, and its hash (checked on resume).
/// </summary>
public sealed record TrainData(
    IDocumentSource Train,
    IDocumentSource Validation,
    int VocabSize,
    FimTokens Tokens,
    Func<string, int[]>? Encode,
    Func<int[], string>? Decode,
    string? TokenizerDir,
    string TokenizerHash);
