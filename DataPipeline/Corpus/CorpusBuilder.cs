using System.Diagnostics;
using CodeLm.DataPipeline.Crawl;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// The DataPipeline's entry points. <see cref="CrawlAsync"/> clones or updates every source in the cache and writes
/// manifest.json; <see cref="CleanAsync"/> reads the manifest and the cached clones and writes train.parquet,
/// validation.parquet and stats.json; <see cref="BuildAsync"/> does both. Bad sources are recorded with their reason and
/// the run goes on; <see cref="CorpusStats.Repos"/>.Failed tells the caller whether to exit non-zero.
/// </summary>
public static class CorpusBuilder
{
    public static async Task<CorpusStats> BuildAsync(CorpusBuildOptions options, IProgress<CorpusProgress>? progress = null, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        var manifest = await CrawlAsync(options, progress, ct, save: false);
        var crawl = sw.Elapsed;
        // The clean saves the manifest last, so a build that fails leaves the previous corpus and its manifest as they were.
        var stats = await CleanAsync(options, manifest, progress, ct);
        stats.Timings = stats.Timings! with { Crawl = crawl };
        return stats;
    }

    /// <summary>Crawls every source (several at once) and writes <c>manifest.json</c> in the output directory (unless not <paramref name="save"/>).</summary>
    public static async Task<CorpusManifest> CrawlAsync(CorpusBuildOptions options, IProgress<CorpusProgress>? progress = null, CancellationToken ct = default, bool save = true)
    {
        var results = await CrawlSourcesAsync(options, Enumerable.Range(0, options.Sources.Count).ToList(), progress, ct);
        var manifest = ToManifest(options, results);
        if (save) manifest.Save(options.OutDir);
        return manifest;
    }

    /// <summary>Clones or updates the sources at <paramref name="indices"/> into the cache (several at once); one result per index.</summary>
    public static async Task<CrawledRepo[]> CrawlSourcesAsync(CorpusBuildOptions options, IReadOnlyList<int> indices, IProgress<CorpusProgress>? progress, CancellationToken ct)
    {
        Validate(options);
        Directory.CreateDirectory(options.CacheDir);
        RepoCrawler.RemoveStaleTemps(options.CacheDir);
        var token = Environment.GetEnvironmentVariable(options.TokenVariable);
        var sources = options.Sources;
        var results = new CrawledRepo[indices.Count];
        int done = 0;
        progress?.Report(new CorpusProgress("crawl", null, 0, indices.Count, 0, 0, 0, 0));
        // Two sources that resolve to the same clone must not be cloned concurrently.
        var groups = Enumerable.Range(0, indices.Count).GroupBy(k => sources[indices[k]].CacheKey).ToList();
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(options.Parallelism, 1, 8), CancellationToken = ct },
            (group, token2) =>
            {
                foreach (var k in group)
                {
                    results[k] = RepoCrawler.Crawl(sources[indices[k]], options.CacheDir, token, token2);
                    progress?.Report(new CorpusProgress("crawl", results[k].Name, Interlocked.Increment(ref done), indices.Count, 0, 0, 0, 0));
                }
                return ValueTask.CompletedTask;
            });
        ct.ThrowIfCancellationRequested();
        return results;
    }

    /// <summary>The manifest of every source's crawl result, in source order: the license allow-list applied, and
    /// distinct sources with the same name told apart by a suffix.</summary>
    public static CorpusManifest ToManifest(CorpusBuildOptions options, IReadOnlyList<CrawledRepo> crawled)
    {
        var results = crawled.ToArray();
        var allow = options.LicenseAllowList is { Count: > 0 } list ? new HashSet<string>(list, StringComparer.OrdinalIgnoreCase) : null;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < results.Length; i++)
        {
            var r = results[i];
            if (allow != null && r.Status == CrawledRepo.Ok && !r.License.Split(" OR ").Any(allow.Contains))
                r = results[i] = r with { Status = CrawledRepo.Skipped, Reason = $"license {r.License} is not in the allow-list" };
            // Distinct sources with the same name get a suffix so corpus rows stay unambiguous.
            if (seen.TryGetValue(r.Name, out var count))
            {
                seen[r.Name] = count + 1;
                results[i] = r with { Name = $"{r.Name}~{count + 1}" };
            }
            else seen[r.Name] = 1;
        }
        return new CorpusManifest { Repos = [.. results] };
    }

    /// <summary>Cleans the repositories of an existing manifest (from <see cref="CrawlAsync"/>) into the corpus.</summary>
    public static Task<CorpusStats> CleanAsync(CorpusBuildOptions options, CorpusManifest? manifest = null, IProgress<CorpusProgress>? progress = null, CancellationToken ct = default)
    {
        Validate(options);
        return CorpusCleaner.CleanAsync(options, manifest ?? CorpusManifest.Load(options.OutDir), progress, ct);
    }

    internal static void Validate(CorpusBuildOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.CacheDir)) throw new ArgumentException("a cache directory is required");
        if (string.IsNullOrWhiteSpace(o.OutDir)) throw new ArgumentException("an output directory is required");
        if (o.ValidationFraction is < 0 or >= 1) throw new ArgumentException("validation fraction must be in [0, 1)");
        if (o.Dedup.Bands * o.Dedup.Rows > o.Dedup.Permutations) throw new ArgumentException("bands × rows must not exceed permutations");
        if (o.Dedup.JaccardThreshold is <= 0 or > 1) throw new ArgumentException("Jaccard threshold must be in (0, 1]");
    }
}
