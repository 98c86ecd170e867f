using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Crawl;
using CodeLm.Common;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// stats.json's counters, changed only here. Every drop goes through <see cref="Drop"/> whichever step makes it, so the
/// "dropped" section, the C# syntax error count and the duplicate counts cannot disagree.
/// </summary>
internal sealed class CorpusTally
{
    private readonly IReadOnlyList<CrawledRepo> _repos;
    // Per source: 1 when it has kept files in train, 2 in validation (a dataset's rows can go to both).
    private readonly Dictionary<string, int> _sides = new(StringComparer.Ordinal);
    public CorpusStats Stats { get; }

    /// <summary>Starts with each repository's outcome: its crawl status, or the failure the list or scan step found.</summary>
    public CorpusTally(CorpusRun run)
    {
        var o = run.Options;
        _repos = run.Repos;
        Stats = new CorpusStats { Cleaning = o.Cleaning, Dedup = o.Dedup, SignatureBytesPerFile = o.Dedup.Permutations * sizeof(uint) };
        Stats.Repos.Total = _repos.Count;
        foreach (var r in _repos) Stats.PerRepo[r.Name] = new RepoStats { Status = r.Status, Reason = r.Reason };
        foreach (var (ri, reason) in run.Failures) Stats.PerRepo[_repos[ri].Name] = new RepoStats { Status = CrawledRepo.Failed, Reason = reason };
        foreach (var r in Stats.PerRepo.Values)
        {
            if (r.Status == CrawledRepo.Ok) Stats.Repos.Ok++;
            else if (r.Status == CrawledRepo.Skipped) Stats.Repos.Skipped++;
            else Stats.Repos.Failed++;
        }
        if (o.Decontamination is { Benchmarks.Count: > 0 } d) Stats.Decontamination = new DecontaminationRecord
        {
            NGram = d.NGram, MinSubstringChars = d.MinSubstringChars,
            Benchmarks = d.Benchmarks.Select(b => new DecontaminatedBenchmark { Name = b.Name, Source = b.Source, Sha256 = b.Sha256, Problems = b.Problems.Count }).ToList(),
        };
        // Every kind is listed, found or not, so readers see what was looked for.
        foreach (var kind in Enum.GetValues<RedactionKind>()) Stats.Redactions[Redactor.KindName(kind)] = 0;
    }

    /// <summary>A tree entry of a readable repository, whether it is kept or dropped later.</summary>
    public void Input(int repo, long bytes)
    {
        Stats.Input.Add(bytes);
        Stats.PerRepo[_repos[repo].Name].Files++;
    }

    /// <summary>A file whose blob was read (the figure the throughput benchmarks divide by).</summary>
    public void Scanned(CorpusFile f)
    {
        Input(f.Repo, f.Size);
        Stats.ScannedFiles++;
        Stats.ScannedBytes += f.Size;
    }

    public void Drop(DropReason reason, long bytes)
    {
        // The failed repository is reported in perRepo; its files are not the corpus's input.
        if (reason == DropReason.RepoFailed) return;
        if (!Stats.Dropped.TryGetValue(reason.Name(), out var dropped)) Stats.Dropped[reason.Name()] = dropped = new FilesAndBytes();
        dropped.Add(bytes);
        var dup = Stats.Duplicates;
        switch (reason)
        {
            case DropReason.CSharpSyntaxError: Stats.CSharpSyntaxErrors++; break;
            case DropReason.ExactDuplicate: dup.ExactFiles++; dup.ExactBytes += bytes; break;
            case DropReason.NearDuplicate: dup.NearFiles++; dup.NearBytes += bytes; break;
        }
    }

    /// <summary>A file dropped for holding a problem of benchmark <paramref name="benchmark"/>, counted per benchmark.</summary>
    public void Contaminated(int benchmark, long bytes)
    {
        var b = Stats.Decontamination!.Benchmarks[benchmark];
        b.DroppedFiles++;
        b.DroppedBytes += bytes;
    }

    public void NearDuplicateSearch(long candidatePairs, long verifiedPairs, int clusters)
    {
        Stats.Duplicates.CandidatePairs = candidatePairs;
        Stats.Duplicates.VerifiedPairs = verifiedPairs;
        Stats.Duplicates.NearClusters = clusters;
    }

    /// <summary>A file that made it into the corpus, on the side <see cref="CorpusFile.InValidation"/> says.</summary>
    public void Keep(CorpusFile f)
    {
        long bytes = f.SpillLength;
        Stats.Kept.Add(bytes);
        var lang = Stats.Languages.TryGetValue(f.Language!, out var l) ? l : Stats.Languages[f.Language!] = new LanguageStats();
        lang.Files++;
        lang.Bytes += bytes;
        if (f.InValidation) lang.ValidationFiles++; else lang.TrainFiles++;
        var split = f.InValidation ? Stats.Validation : Stats.Train;
        split.Files++;
        split.Bytes += bytes;
        _sides[_repos[f.Repo].Name] = _sides.GetValueOrDefault(_repos[f.Repo].Name) | (f.InValidation ? 2 : 1);
        var repo = Stats.PerRepo[_repos[f.Repo].Name];
        repo.KeptFiles++;
        repo.KeptBytes += bytes;
        if (f.Redactions != null)
            for (int k = 0; k < f.Redactions.Length; k++) Stats.Redactions[Redactor.KindName((RedactionKind)k)] += f.Redactions[k];
    }

    /// <summary>Which side each repository with kept files went to, once every file is kept.</summary>
    public void Split(bool byFile)
    {
        if (byFile) Stats.SplitBy = "file";
        foreach (var (name, rs) in Stats.PerRepo)
            if (rs.KeptFiles > 0) rs.Split = byFile ? "both" : _sides.GetValueOrDefault(name) switch { 3 => "both", 2 => "validation", _ => "train" };
        Stats.Train.Repos = Stats.PerRepo.Where(kv => kv.Value.Split is "train" or "both").Select(kv => kv.Key).ToList();
        Stats.Validation.Repos = Stats.PerRepo.Where(kv => kv.Value.Split is "validation" or "both").Select(kv => kv.Key).ToList();
    }
}
