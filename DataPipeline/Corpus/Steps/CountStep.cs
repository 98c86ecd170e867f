using CodeLm.DataPipeline.Clean;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// Counts what listing and the scan found, once the scan has settled which repositories could be read: a repository that
/// failed part-way through leaves none of its files in any count, including those judged before it failed.
/// </summary>
internal static class CountStep
{
    public static CorpusTally Run(CorpusRun run, Listing listing)
    {
        var tally = new CorpusTally(run);
        foreach (var d in listing.Drops)
        {
            if (run.HasFailed(d.Repo)) continue;
            tally.Input(d.Repo, d.Bytes);
            tally.Drop(d.Reason, d.Bytes);
        }
        foreach (var f in listing.Files)
        {
            if (run.HasFailed(f.Repo)) { f.Drop(DropReason.RepoFailed, tally); continue; }
            tally.Scanned(f);
            f.Settle(tally);
        }
        return tally;
    }
}
