namespace CodeLm.DataPipeline.Clean;

/// <summary>Why a file is not in the corpus. <see cref="DropReasons.Name"/> gives the key in stats.json's "dropped" section.</summary>
public enum DropReason
{
    Submodule,
    Symlink,
    TooLarge,
    Vendored,
    LockFile,
    UnknownLanguage,
    LanguageNotSelected,
    LfsPointer,
    Binary,
    InvalidUtf8,
    Empty,
    LongLine,
    MeanLineLength,
    LowAlphanumeric,
    Generated,
    Minified,
    DataHeavy,
    CSharpSyntaxError,
    ExactDuplicate,
    NearDuplicate,
    /// <summary>Holds a benchmark problem's solution or docstring (see DecontaminationOptions).</summary>
    BenchmarkContamination,
    /// <summary>Its repository could not be read to the end; such files are in no count, and the repository is reported failed.</summary>
    RepoFailed,
}

public static class DropReasons
{
    /// <summary>The one spelling of each reason: stats.json's keys, which readers of older corpora rely on.</summary>
    public static string Name(this DropReason reason) => reason switch
    {
        DropReason.Submodule => "submodule",
        DropReason.Symlink => "symlink",
        DropReason.TooLarge => "too-large",
        DropReason.Vendored => "vendored",
        DropReason.LockFile => "lock-file",
        DropReason.UnknownLanguage => "unknown-language",
        DropReason.LanguageNotSelected => "language-not-selected",
        DropReason.LfsPointer => "lfs-pointer",
        DropReason.Binary => "binary",
        DropReason.InvalidUtf8 => "invalid-utf8",
        DropReason.Empty => "empty",
        DropReason.LongLine => "long-line",
        DropReason.MeanLineLength => "mean-line-length",
        DropReason.LowAlphanumeric => "low-alphanumeric",
        DropReason.Generated => "generated",
        DropReason.Minified => "minified",
        DropReason.DataHeavy => "data-heavy",
        DropReason.CSharpSyntaxError => "csharp-syntax-error",
        DropReason.ExactDuplicate => "exact-duplicate",
        DropReason.NearDuplicate => "near-duplicate",
        DropReason.BenchmarkContamination => "benchmark-contamination",
        DropReason.RepoFailed => "repo-failed",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
