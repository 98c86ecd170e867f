namespace CodeLm.DataPipeline.Decontamination;

/// <summary>
/// Which benchmarks a corpus must not contain, and how a match is found. A file is dropped when, after all whitespace is
/// removed, it contains a problem's solution or docstring of at least <see cref="MinSubstringChars"/> characters, or
/// when it shares a run of <see cref="NGram"/> code tokens (identifiers, numbers, punctuation) with a problem's prompt
/// and solution; the n-gram test also catches copies whose names were changed.
/// </summary>
public sealed record DecontaminationOptions
{
    public IReadOnlyList<Benchmark> Benchmarks { get; init; } = [];
    /// <summary>Tokens per n-gram; 0 turns the n-gram test off. 24: at 20 the shared corpus loses 3 files that hold no benchmark (docs/data.md).</summary>
    public int NGram { get; init; } = 24;
    /// <summary>Shorter solutions and docstrings ("return a + b") are only matched by n-grams: as substrings they are everywhere.</summary>
    public int MinSubstringChars { get; init; } = 50;
}
