using CodeLm.DataPipeline.Clean;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// Drops a file whose cleaned text is identical to an earlier one's. The first in (repository, path) order stays, so which
/// copy survives does not depend on the order the scan finished in.
/// </summary>
internal static class ExactDedupStep
{
    public static void Run(CorpusRun run, IReadOnlyList<CorpusFile> files, CorpusTally tally)
    {
        if (!run.Options.Dedup.Exact) return;
        var seen = new HashSet<UInt128>();
        foreach (var f in files)
            if (f.IsKept && !seen.Add(f.Hash)) f.Drop(DropReason.ExactDuplicate, tally);
    }
}
