namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// Sends each kept file to train or validation. Whole repositories go to one side, so validation measures code the model
/// has not seen; only when a single repository is kept are its files split, as a repository split would leave one side empty.
/// </summary>
internal static class SplitStep
{
    public static void Run(CorpusRun run, IReadOnlyList<CorpusFile> files, CorpusTally tally)
    {
        var o = run.Options;
        var keptBytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var f in files)
            if (f.IsKept) keptBytes[run.SplitName(f)] = keptBytes.GetValueOrDefault(run.SplitName(f)) + f.SpillLength;
        var validationRepos = RepoSplitter.ChooseValidation(keptBytes, o.ValidationFraction, o.Seed);
        bool byFile = keptBytes.Count(kv => kv.Value > 0) == 1 && o.SingleRepositoryFileSplit && o.ValidationFraction > 0;
        var fileCut = (ulong)(o.ValidationFraction * ulong.MaxValue);
        foreach (var f in files)
        {
            if (!f.IsKept) continue;
            var name = run.SplitName(f);
            f.InValidation = byFile ? RepoSplitter.Rank(name + "/" + f.Path, o.Seed) < fileCut : validationRepos.Contains(name);
            tally.Keep(f);
        }
        tally.Split(byFile);
    }
}
