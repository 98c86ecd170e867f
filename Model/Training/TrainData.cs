using CodeLm.Common;
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
    string TokenizerHash)
{
    /// <summary>The corpus behind the shards and its decontamination, kept in every checkpoint as training_data.json; null when not from shards.</summary>
    public TrainingDataRecord? Provenance { get; init; }

    /// <summary>
    /// The training windows in the order a run with <paramref name="options"/> reads them, from <paramref name="position"/>
    /// on. The order depends on the seed alone, so anyone can replay exactly what a run trained on.
    /// </summary>
    public TokenStream TrainStream(TrainOptions options, StreamPosition? position = null) =>
        new(Train, Tokens.EndOfText, options.Seed, Fim(options), position: position, beginOfText: Tokens.BeginOfText);

    /// <summary>Whether a run with FIM on gets it (a tokenizer without FIM sentinels has no codec here).</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Encode), nameof(Decode))]
    public bool HasFim => Encode != null && Decode != null;

    /// <summary>The validation windows every evaluation of such a run reads first (the same ones each time, so evaluations compare).</summary>
    public TokenStream ValidationStream(TrainOptions options) => new(Validation, Tokens.EndOfText, options.Seed + 1, Fim(options), beginOfText: Tokens.BeginOfText);

    private FimTransform? Fim(TrainOptions options) => HasFim && options.FimRate > 0
        ? new FimTransform(Encode, Decode, Tokens, options.FimRate, options.FimSpmRate) : null;
}
