using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Dedup;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// Drops near duplicates: files whose MinHash signatures share an LSH band and pass the verified Jaccard threshold are
/// clustered, and each cluster keeps its first file in (repository, path) order.
/// </summary>
internal static class NearDedupStep
{
    public static void Run(CorpusRun run, IReadOnlyList<CorpusFile> files, uint[] signatures, CorpusTally tally, Func<int, ulong[]>? bandKeys = null)
    {
        if (!run.Options.Dedup.Near) return;
        // A file without a shingle has the all-max signature and would match every other such file.
        var eligible = new bool[files.Count];
        foreach (var f in files) eligible[f.Row] = f.IsKept && f.Shingles > 0;
        var near = NearDuplicateFinder.Find(signatures, eligible, run.Options.Dedup, run.Ct, bandKeys);
        var clusters = new HashSet<int>();
        foreach (var f in files)
        {
            if (!eligible[f.Row]) continue;
            int keeper = near.Clusters.Find(f.Row);
            if (keeper == f.Row) continue;
            clusters.Add(keeper);
            f.Drop(DropReason.NearDuplicate, tally);
        }
        tally.NearDuplicateSearch(near.CandidatePairs, near.VerifiedPairs, clusters.Count);
    }
}
