using System.Diagnostics;
using System.Text.Json;
using CodeLm.Common;
using CodeLm.DataPipeline.Corpus.Steps;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// Turns crawled repositories into the corpus through a chain of steps over per-file records (<see cref="CorpusFile"/>):
/// list (every file of every cached clone, in (repository, path) order) → scan (parallel: read, filter, clean, hash,
/// MinHash, spill the text) → count → exact dedup → near dedup → split → write. Only metadata and signatures stay in
/// memory. Every step after the scan is sequential and goes in (repository, path) order, so the output is deterministic.
/// </summary>
public static class CorpusCleaner
{
    public static async Task<CorpusStats> CleanAsync(CorpusBuildOptions o, CorpusManifest manifest, IProgress<CorpusProgress>? progress, CancellationToken ct)
    {
        var run = new CorpusRun(o, manifest.Repos, progress, ct);
        bool outExisted = Directory.Exists(o.OutDir);
        var sw = Stopwatch.StartNew();
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var listing = ListStep.Run(run);
        using var spill = new ContentSpill(o.OutDir);
        var (tally, scanTime, dedupTime) = ScanAndDedup(run, listing, spill, sw);
        var scanDedupCpu = Process.GetCurrentProcess().TotalProcessorTime - cpuStart;

        try
        {
            CheckFailures(o, tally.Stats);
        }
        catch (SourceFailuresException)
        {
            spill.Dispose();
            // The spill made the directory; a failed first build leaves none behind.
            if (!outExisted && !Directory.EnumerateFileSystemEntries(o.OutDir).Any()) Directory.Delete(o.OutDir);
            throw;
        }
        sw.Restart();
        SplitStep.Run(run, listing.Files, tally);
        var stats = tally.Stats;
        await WriteStep.RunAsync(run, listing.Files, spill, stats.Kept.Files);
        AtomicFile.WriteAllText(Path.Combine(o.OutDir, CorpusStats.FileName), JsonSerializer.Serialize(stats, CorpusJson.Files.CorpusStats) + "\n");
        manifest.Decontamination = stats.Decontamination;
        manifest.Save(o.OutDir);
        progress?.Report(new CorpusProgress("write", null, 0, 0, stats.Kept.Files, stats.Kept.Files, 0, 0));
        stats.Timings = new CorpusTimings(TimeSpan.Zero, scanTime, dedupTime, sw.Elapsed) { ScanDedupCpu = scanDedupCpu };
        return stats;
    }

    /// <summary>Stops before writing when no source was read or more failed than tolerated (crawl and scan failures alike).</summary>
    internal static void CheckFailures(CorpusBuildOptions o, CorpusStats stats)
    {
        int failed = stats.Repos.Failed, read = stats.Repos.Ok;
        if (read > 0 && failed <= o.AllowedFailures) return;
        var reasons = stats.PerRepo.Where(kv => kv.Value.Status != Crawl.CrawledRepo.Ok)
                                   .Select(kv => (kv.Key, kv.Value.Reason ?? kv.Value.Status)).ToList();
        throw new SourceFailuresException(failed, read, stats.Repos.Total, o.AllowedFailures, reasons);
    }

    // A method of its own so the signature matrix is garbage once dedup is done: a local of the async method above
    // could be kept alive by its state machine until the write ends.
    private static (CorpusTally, TimeSpan Scan, TimeSpan Dedup) ScanAndDedup(CorpusRun run, Listing listing, ContentSpill spill, Stopwatch sw)
    {
        var signatures = ScanStep.Run(run, listing, spill);
        var scanTime = sw.Elapsed;
        sw.Restart();
        var tally = CountStep.Run(run, listing);
        run.Progress?.Report(new CorpusProgress("dedup", null, listing.Repos, listing.Repos, 0, listing.Files.Count, 0, 0));
        ExactDedupStep.Run(run, listing.Files, tally);
        NearDedupStep.Run(run, listing.Files, signatures, tally);
        return (tally, scanTime, sw.Elapsed);
    }
}
