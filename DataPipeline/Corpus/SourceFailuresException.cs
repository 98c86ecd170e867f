namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// Thrown before anything of the corpus is written when no source could be read, or when more sources failed than
/// <see cref="CorpusBuildOptions.AllowedFailures"/> tolerates: an empty or silently partial corpus would otherwise go on
/// to tokenizing and training.
/// </summary>
public sealed class SourceFailuresException(int failed, int read, int total, int allowed, IReadOnlyList<(string Source, string Reason)> failures)
    : Exception(Describe(failed, read, total, allowed, failures))
{
    public int Failed { get; } = failed;
    /// <summary>Sources that were read (crawled and readable, whether or not a file of them was kept).</summary>
    public int Read { get; } = read;
    public int Total { get; } = total;
    public int Allowed { get; } = allowed;
    public IReadOnlyList<(string Source, string Reason)> Failures { get; } = failures;

    private static string Describe(int failed, int read, int total, int allowed, IReadOnlyList<(string Source, string Reason)> failures)
    {
        var shown = string.Join("; ", failures.Take(3).Select(f => $"{f.Source}: {f.Reason}")) + (failures.Count > 3 ? $"; {failures.Count - 3} more" : "");
        return read == 0
            ? $"none of the {total} sources could be used ({shown}); no corpus was written"
            : $"{failed} of {total} sources failed ({shown}), more than the {allowed} tolerated; no corpus was written";
    }
}
