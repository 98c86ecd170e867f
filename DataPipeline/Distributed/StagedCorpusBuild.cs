using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using CodeLm.Common;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Corpus.Steps;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Dedup;

namespace CodeLm.DataPipeline.Distributed;

/// <summary>
/// One rank of one stage of a corpus build spread over a world of tasks (datatrove's design): each rank reads what the
/// previous stages left in the work directory and leaves its own outputs there, renamed into place, then a completion
/// marker. The steps are the one-process build's own, run on a share of the repositories, so any world size gives the
/// corpus, stats.json and manifest.json a one-process `data build` gives, byte for byte.
/// </summary>
public static class StagedCorpusBuild
{
    /// <summary>Runs rank <paramref name="rank"/> of <paramref name="world"/> for <paramref name="stage"/>; a rank already marked done returns false.</summary>
    public static async Task<bool> RunAsync(CorpusBuildOptions o, DataStage stage, int rank, int world, string workDir,
                                            IProgress<CorpusProgress>? progress = null, CancellationToken ct = default)
    {
        CorpusBuilder.Validate(o);
        int ranks = stage.Ranks(world, o.Dedup.Bands);
        if (rank < 0 || rank >= ranks) throw new ArgumentException($"rank {rank} is outside the {stage.Name()} stage's {ranks} ranks (world size {world})");
        var work = new WorkDirectory(workDir);
        if (work.IsDone(stage, rank)) return false;
        // The scheduler runs one instance of a rank at a time, so whatever temporary files carry its names are a killed
        // earlier attempt's, on whichever node it ran.
        foreach (var output in Outputs(o, work, stage, rank, ranks)) RemoveLeftovers(output);
        switch (stage)
        {
            case DataStage.Crawl: await CrawlAsync(o, work, rank, world, progress, ct); break;
            case DataStage.Clean: Clean(o, work, rank, world, progress, ct); break;
            case DataStage.Buckets: Buckets(o, work, rank, ranks, world, ct); break;
            case DataStage.Cluster: Cluster(o, work, world, ct); break;
            case DataStage.Write: await WriteAsync(o, work, world, progress, ct); break;
        }
        work.MarkDone(stage, rank);
        return true;
    }

    private static IEnumerable<string> Outputs(CorpusBuildOptions o, WorkDirectory work, DataStage stage, int rank, int ranks) => stage switch
    {
        DataStage.Crawl => [work.CrawlResult(rank), work.Done(stage, rank)],
        DataStage.Clean => [work.CleanRank(rank), work.Done(stage, rank)],
        DataStage.Buckets => Bands(o, rank, ranks).Select(work.BandKeys).Append(work.Done(stage, rank)),
        DataStage.Cluster => [work.Cluster, work.Done(stage, rank)],
        _ => [Path.Combine(o.OutDir, CorpusFiles.Train), Path.Combine(o.OutDir, CorpusFiles.Validation), Path.Combine(o.OutDir, CorpusStats.FileName),
              Path.Combine(o.OutDir, CorpusManifest.FileName), work.Done(stage, rank)],
    };

    private static IEnumerable<int> Bands(CorpusBuildOptions o, int rank, int ranks)
    {
        var (first, end) = DataStages.Share(o.Dedup.Bands, rank, ranks);
        return Enumerable.Range(first, end - first);
    }

    /// <summary>Deletes the staging directories (StagedDirectory) and temp files (AtomicFile, corpus Parquet) of <paramref name="output"/>.</summary>
    private static void RemoveLeftovers(string output)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(output))!;
        if (!Directory.Exists(dir)) return;
        var name = Path.GetFileName(output);
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir, "." + name + ".*"))
        {
            var leaf = Path.GetFileName(entry);
            if (!leaf.StartsWith($".{name}.tmp-", StringComparison.Ordinal) && !leaf.EndsWith(".tmp", StringComparison.Ordinal)) continue;
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true); else File.Delete(entry);
        }
    }

    /// <summary>Sources are dealt to ranks by the hash of their cache key, so two sources of one clone meet in one rank.</summary>
    internal static int CrawlRankOf(RepoSource source, int world) =>
        (int)(BitConverter.ToUInt64(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(source.CacheKey))) % (ulong)world);

    private static async Task CrawlAsync(CorpusBuildOptions o, WorkDirectory work, int rank, int world, IProgress<CorpusProgress>? progress, CancellationToken ct)
    {
        var mine = Enumerable.Range(0, o.Sources.Count).Where(i => CrawlRankOf(o.Sources[i], world) == rank).ToList();
        var results = await CorpusBuilder.CrawlSourcesAsync(o, mine, progress, ct);
        var byIndex = mine.Select((source, k) => new CrawlResult(source, results[k])).ToList();
        Directory.CreateDirectory(Path.GetDirectoryName(work.CrawlResult(rank))!);
        AtomicFile.WriteAllText(work.CrawlResult(rank), JsonSerializer.Serialize(byIndex, CorpusJson.Files.ListCrawlResult));
        // A rank whose every source failed stops the pipeline here, where the scheduler's dependency sees it.
        if (mine.Count > 0 && results.All(r => r.Status == CrawledRepo.Failed))
            throw new SourceFailuresException(mine.Count, 0, mine.Count, o.AllowedFailures, results.Select(r => (r.Name, r.Reason ?? r.Status)).ToList());
    }

    /// <summary>Every crawl rank's results in source order, as the one-process crawl writes them.</summary>
    private static CorpusManifest Manifest(CorpusBuildOptions o, WorkDirectory work, int world)
    {
        var crawled = new CrawledRepo[o.Sources.Count];
        for (int r = 0; r < world; r++)
        {
            var path = WorkDirectory.Require(work.CrawlResult(r), DataStage.Crawl);
            foreach (var c in JsonSerializer.Deserialize(File.ReadAllText(path), CorpusJson.Files.ListCrawlResult)!) crawled[c.Source] = c.Repo;
        }
        if (crawled.Any(c => c is null)) throw new InvalidDataException($"the crawl results in {work.Root} do not cover every source; were they made with other sources or another world size?");
        return CorpusBuilder.ToManifest(o, crawled);
    }

    private static void Clean(CorpusBuildOptions o, WorkDirectory work, int rank, int world, IProgress<CorpusProgress>? progress, CancellationToken ct)
    {
        var manifest = Manifest(o, work, world);
        var run = new CorpusRun(o, manifest.Repos, progress, ct);
        var order = ListStep.Order(manifest.Repos);
        var (start, end) = DataStages.Share(order.Count, rank, world);
        StagedDirectory.Write(work.CleanRank(rank), dir =>
        {
            var listing = end > start ? ListStep.Run(run, order[start..end]) : new Listing([], [], 0);
            using (var spill = ContentSpill.Keep(Path.Combine(dir, WorkDirectory.Content)))
            {
                var signatures = ScanStep.Run(run, listing, spill);
                WriteUInts(Path.Combine(dir, WorkDirectory.Signatures), signatures);
            }
            foreach (var f in listing.Files) f.SpillRank = rank;
            FileRecords.Write(Path.Combine(dir, WorkDirectory.Files), listing.Files, listing.Drops, run.Failures);
        });
    }

    private static void Buckets(CorpusBuildOptions o, WorkDirectory work, int rank, int ranks, int world, CancellationToken ct)
    {
        var signatures = AllSignatures(o, work, world, out int files);
        foreach (var band in Bands(o, rank, ranks))
        {
            ct.ThrowIfCancellationRequested();
            var keys = NearDuplicateFinder.BandKeys(signatures, files, band, o.Dedup);
            Directory.CreateDirectory(Path.GetDirectoryName(work.BandKeys(band))!);
            AtomicFile.WriteAllBytes(work.BandKeys(band), MemoryMarshal.AsBytes(keys.AsSpan()).ToArray());
        }
    }

    private static void Cluster(CorpusBuildOptions o, WorkDirectory work, int world, CancellationToken ct)
    {
        var manifest = Manifest(o, work, world);
        var run = new CorpusRun(o, manifest.Repos, null, ct);
        var (files, drops) = AllFiles(work, world, run);
        var listing = new Listing(files, drops, ListStep.Order(manifest.Repos).Count);
        var signatures = AllSignatures(o, work, world, out _);
        var tally = CountStep.Run(run, listing);
        ExactDedupStep.Run(run, files, tally);
        NearDedupStep.Run(run, files, signatures, tally, band => ReadKeys(work.BandKeys(band), files.Count));
        CorpusCleaner.CheckFailures(o, tally.Stats);
        SplitStep.Run(run, files, tally);
        StagedDirectory.Write(work.Cluster, dir =>
        {
            FileRecords.Write(Path.Combine(dir, WorkDirectory.Files), files, drops, run.Failures);
            File.WriteAllText(Path.Combine(dir, WorkDirectory.Stats), JsonSerializer.Serialize(tally.Stats, CorpusJson.Files.CorpusStats) + "\n");
        });
    }

    private static async Task WriteAsync(CorpusBuildOptions o, WorkDirectory work, int world, IProgress<CorpusProgress>? progress, CancellationToken ct)
    {
        var manifest = Manifest(o, work, world);
        var run = new CorpusRun(o, manifest.Repos, progress, ct);
        var records = FileRecords.Read(Path.Combine(WorkDirectory.Require(work.Cluster, DataStage.Cluster), WorkDirectory.Files));
        var statsText = File.ReadAllText(Path.Combine(work.Cluster, WorkDirectory.Stats));
        var stats = JsonSerializer.Deserialize(statsText, CorpusJson.Files.CorpusStats)!;
        var spills = Enumerable.Range(0, world).Select(r => ContentSpill.Open(Path.Combine(work.CleanRank(r), WorkDirectory.Content))).ToArray();
        try
        {
            await WriteStep.RunAsync(run, records.Files, f => spills[f.SpillRank], stats.Kept.Files);
        }
        finally
        {
            foreach (var s in spills) s.Dispose();
        }
        AtomicFile.WriteAllText(Path.Combine(o.OutDir, CorpusStats.FileName), statsText);
        manifest.Decontamination = stats.Decontamination;
        manifest.Save(o.OutDir);
    }

    /// <summary>Every clean rank's files in rank order, which is (repository name, path) order: ranks hold contiguous runs of repositories.</summary>
    private static (List<CorpusFile> Files, List<ListedDrop> Drops) AllFiles(WorkDirectory work, int world, CorpusRun run)
    {
        var files = new List<CorpusFile>();
        var drops = new List<ListedDrop>();
        for (int r = 0; r < world; r++)
        {
            var c = FileRecords.Read(Path.Combine(WorkDirectory.Require(work.CleanRank(r), DataStage.Clean), WorkDirectory.Files));
            files.AddRange(c.Files);
            drops.AddRange(c.Drops);
            foreach (var (repo, reason) in c.Failures) run.Fail(repo, reason);
        }
        for (int i = 0; i < files.Count; i++) files[i].Row = i;
        return (files, drops);
    }

    private static uint[] AllSignatures(CorpusBuildOptions o, WorkDirectory work, int world, out int files)
    {
        var parts = Enumerable.Range(0, world)
            .Select(r => File.ReadAllBytes(Path.Combine(WorkDirectory.Require(work.CleanRank(r), DataStage.Clean), WorkDirectory.Signatures))).ToList();
        var all = new uint[parts.Sum(p => (long)p.Length) / sizeof(uint)];
        var bytes = MemoryMarshal.AsBytes(all.AsSpan());
        int at = 0;
        foreach (var p in parts) { p.CopyTo(bytes[at..]); at += p.Length; }
        files = all.Length / o.Dedup.Permutations;
        return all;
    }

    private static void WriteUInts(string path, uint[] values)
    {
        using var f = File.Create(path);
        f.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static ulong[] ReadKeys(string path, int files)
    {
        var bytes = File.ReadAllBytes(WorkDirectory.Require(path, DataStage.Buckets));
        if (bytes.Length != (long)files * sizeof(ulong)) throw new InvalidDataException($"{path} holds keys for {bytes.Length / 8} files, not {files}; rerun the buckets stage");
        return MemoryMarshal.Cast<byte, ulong>(bytes).ToArray();
    }
}

/// <summary>One source's crawl result and its index among the build's sources.</summary>
public sealed record CrawlResult(int Source, CrawledRepo Repo);
