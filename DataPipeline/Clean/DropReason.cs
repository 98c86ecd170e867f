namespace CodeLm.DataPipeline.Clean;

/// <summary>Why a file is not in the corpus. The names are the keys of stats.json's "dropped" section.</summary>
public static class DropReason
{
    public const string Submodule = "submodule";
    public const string Symlink = "symlink";
    public const string TooLarge = "too-large";
    public const string Vendored = "vendored";
    public const string LockFile = "lock-file";
    public const string UnknownLanguage = "unknown-language";
    public const string LanguageNotSelected = "language-not-selected";
    public const string LfsPointer = "lfs-pointer";
    public const string Binary = "binary";
    public const string InvalidUtf8 = "invalid-utf8";
    public const string Empty = "empty";
    public const string LongLine = "long-line";
    public const string MeanLineLength = "mean-line-length";
    public const string LowAlphanumeric = "low-alphanumeric";
    public const string Generated = "generated";
    public const string Minified = "minified";
    public const string DataHeavy = "data-heavy";
    public const string CSharpSyntaxError = "csharp-syntax-error";
    public const string ExactDuplicate = "exact-duplicate";
    public const string NearDuplicate = "near-duplicate";
}
