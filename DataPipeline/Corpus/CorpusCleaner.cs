using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using CodeLm.Common;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Dedup;
using CodeLm.Tokenizer;
using LibGit2Sharp;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// Turns crawled repositories into the corpus in two passes over the files.
/// Scan (parallel across files): read each blob from the cached clone, filter, check C# syntax, redact, hash for exact
/// dedup, compute the MinHash signature, and append the cleaned text to a spill file. Memory keeps per-file metadata and
/// the signature only. Dedup (sequential, deterministic): exact hash keeper = first (repo, path); near duplicates by LSH +
/// verified Jaccard + union-find, keeper = first (repo, path) of each cluster. Write: the repository split, then each
/// Parquet file streamed from the spill in (repo, path) order.
/// </summary>
public static class CorpusCleaner
{
    private sealed class FileState
    {
        public string? Drop;
        public string? Language;
        public long InputBytes;
        public long Offset;
        public int Length;
        public UInt128 Hash;
        public int Shingles;
        public int[]? Redactions;
    }

    public static async Task<CorpusStats> CleanAsync(CorpusBuildOptions o, CorpusManifest manifest, IProgress<CorpusProgress>? progress, CancellationToken ct)
    {
        var repos = manifest.Repos;
        var stats = new CorpusStats { Cleaning = o.Cleaning, Dedup = o.Dedup, SignatureBytesPerFile = o.Dedup.Permutations * sizeof(uint) };
        stats.Repos.Total = repos.Count;
        foreach (var r in repos)
            stats.PerRepo[r.Name] = new RepoStats { Status = r.Status, Reason = r.Reason };
        var failed = new ConcurrentDictionary<int, string>();

        // ---- List files of every ok repository, in (repo name, path) order.
        var sw = Stopwatch.StartNew();
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var order = Enumerable.Range(0, repos.Count).Where(i => repos[i].Status == CrawledRepo.Ok)
                              .OrderBy(i => repos[i].Name, StringComparer.Ordinal).ToList();
        var files = new List<FileEntry>();
        var listDrops = new List<(int Repo, string Reason, long Bytes)>();
        foreach (var ri in order)
        {
            ct.ThrowIfCancellationRequested();
            int start = files.Count, dropStart = listDrops.Count;
            if (!Directory.Exists(CachePath(o, repos[ri])))
            {
                failed[ri] = $"clone {repos[ri].CacheKey} is not in the cache {o.CacheDir}; crawl again with the same --cache";
                continue;
            }
            try
            {
                using var repo = new Repository(CachePath(o, repos[ri]));
                RepoFiles.List(repo, repos[ri].Commit!, ri, o.Cleaning, files, (reason, bytes) => listDrops.Add((ri, reason, bytes)), ct);
                files.Sort(start, files.Count - start, Comparer<FileEntry>.Create((a, b) => string.CompareOrdinal(a.Path, b.Path)));
            }
            catch (Exception e) when (e is LibGit2SharpException or IOException or InvalidDataException or RepositoryNotFoundException)
            {
                failed[ri] = "cannot read the cached clone: " + e.Message.Trim();
                files.RemoveRange(start, files.Count - start);
                listDrops.RemoveRange(dropStart, listDrops.Count - dropStart);
            }
        }

        // A wrong --cache must not replace a good corpus with an empty one.
        if (order.Count > 0 && order.All(failed.ContainsKey))
            throw new InvalidDataException("no crawled repository could be read, so the corpus was left as it was: " +
                                           string.Join("; ", order.Select(i => $"{repos[i].Name}: {failed[i]}")));

        // ---- Scan.
        int n = files.Count;
        var state = new FileState[n];
        var hasher = new MinHasher(o.Dedup.Permutations, o.Dedup.ShingleSize, 0x9E3779B97F4A7C15UL ^ o.Seed);
        var signatures = new uint[(long)n * o.Dedup.Permutations];
        long totalBytes = files.Sum(f => f.Size), doneBytes = 0, doneFiles = 0;
        using var spill = new ContentSpill(o.OutDir);
        using (var timer = progress == null ? null : new Timer(_ =>
                   progress.Report(new CorpusProgress("scan", null, 0, order.Count, Interlocked.Read(ref doneFiles), n, Interlocked.Read(ref doneBytes), totalBytes)),
                   null, 200, 250))
        {
            var parallel = n == 0 ? null : new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Parallelism), CancellationToken = ct };
            if (parallel != null) Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, n, Math.Clamp(n / (8 * parallel.MaxDegreeOfParallelism) + 1, 1, 64)), parallel,
                () => new Dictionary<int, Repository>(),
                (range, _, open) =>
                {
                    for (int i = range.Item1; i < range.Item2; i++)
                    {
                        ct.ThrowIfCancellationRequested();
                        var f = files[i];
                        if (!failed.ContainsKey(f.Repo)) state[i] = ScanOne(o, repos, f, open, spill, hasher, signatures.AsSpan((int)((long)i * o.Dedup.Permutations), o.Dedup.Permutations), failed, ct);
                        else state[i] = new FileState { Drop = "repo-failed", InputBytes = f.Size };
                        Interlocked.Add(ref doneBytes, f.Size);
                        Interlocked.Increment(ref doneFiles);
                    }
                    return open;
                },
                open => { foreach (var r in open.Values) r.Dispose(); });
        }
        spill.FinishWriting();
        progress?.Report(new CorpusProgress("scan", null, order.Count, order.Count, n, n, totalBytes, totalBytes));
        var scanTime = sw.Elapsed;

        // ---- Repository outcomes, input and drop counts.
        foreach (var (ri, reason) in failed) stats.PerRepo[repos[ri].Name] = new RepoStats { Status = CrawledRepo.Failed, Reason = reason };
        foreach (var r in stats.PerRepo.Values)
        {
            if (r.Status == CrawledRepo.Ok) stats.Repos.Ok++;
            else if (r.Status == CrawledRepo.Skipped) stats.Repos.Skipped++;
            else stats.Repos.Failed++;
        }
        foreach (var (ri, reason, bytes) in listDrops)
        {
            if (failed.ContainsKey(ri)) continue;
            stats.Input.Add(bytes);
            stats.PerRepo[repos[ri].Name].Files++;
            Bump(stats.Dropped, reason, bytes);
        }
        stats.ScannedFiles = files.Count(f => !failed.ContainsKey(f.Repo));
        stats.ScannedBytes = files.Where(f => !failed.ContainsKey(f.Repo)).Sum(f => f.Size);
        var alive = new bool[n];
        for (int i = 0; i < n; i++)
        {
            if (failed.ContainsKey(files[i].Repo)) continue;
            var s = state[i];
            stats.Input.Add(files[i].Size);
            stats.PerRepo[repos[files[i].Repo].Name].Files++;
            if (s.Drop != null)
            {
                Bump(stats.Dropped, s.Drop, s.InputBytes);
                if (s.Drop == DropReason.CSharpSyntaxError) stats.CSharpSyntaxErrors++;
            }
            else alive[i] = true;
        }

        // ---- Exact, then near dedup.
        sw.Restart();
        progress?.Report(new CorpusProgress("dedup", null, order.Count, order.Count, 0, n, 0, 0));
        if (o.Dedup.Exact)
        {
            var seen = new Dictionary<UInt128, int>();
            for (int i = 0; i < n; i++)
            {
                if (!alive[i]) continue;
                if (seen.TryAdd(state[i].Hash, i)) continue;
                alive[i] = false;
                state[i].Drop = DropReason.ExactDuplicate;
                stats.Duplicates.ExactFiles++;
                stats.Duplicates.ExactBytes += state[i].InputBytes;
                Bump(stats.Dropped, DropReason.ExactDuplicate, state[i].InputBytes);
            }
        }
        if (o.Dedup.Near)
        {
            var eligible = new bool[n];
            for (int i = 0; i < n; i++) eligible[i] = alive[i] && state[i].Shingles > 0;
            var near = NearDuplicateFinder.Find(signatures, eligible, o.Dedup, ct);
            stats.Duplicates.CandidatePairs = near.CandidatePairs;
            stats.Duplicates.VerifiedPairs = near.VerifiedPairs;
            var clusters = new HashSet<int>();
            for (int i = 0; i < n; i++)
            {
                if (!eligible[i]) continue;
                int root = near.Clusters.Find(i);
                if (root == i) continue;
                clusters.Add(root);
                alive[i] = false;
                state[i].Drop = DropReason.NearDuplicate;
                stats.Duplicates.NearFiles++;
                stats.Duplicates.NearBytes += state[i].InputBytes;
                Bump(stats.Dropped, DropReason.NearDuplicate, state[i].InputBytes);
            }
            stats.Duplicates.NearClusters = clusters.Count;
        }
        signatures = [];
        var dedupTime = sw.Elapsed;
        var scanDedupCpu = Process.GetCurrentProcess().TotalProcessorTime - cpuStart;

        // ---- Split and write.
        sw.Restart();
        var keptByRepo = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
            if (alive[i]) keptByRepo[repos[files[i].Repo].Name] = keptByRepo.GetValueOrDefault(repos[files[i].Repo].Name) + state[i].Length;
        var validationRepos = RepoSplitter.ChooseValidation(keptByRepo, o.ValidationFraction, o.Seed);
        bool fileSplit = keptByRepo.Count(kv => kv.Value > 0) == 1 && o.SingleRepositoryFileSplit && o.ValidationFraction > 0;
        if (fileSplit) stats.SplitBy = "file";
        var isValidation = new bool[n];
        for (int i = 0; i < n; i++)
        {
            if (!alive[i]) continue;
            var name = repos[files[i].Repo].Name;
            isValidation[i] = fileSplit
                ? RepoSplitter.Rank(name + "/" + files[i].Path, o.Seed) < (ulong)(o.ValidationFraction * ulong.MaxValue)
                : validationRepos.Contains(name);
            var s = state[i];
            stats.Kept.Add(s.Length);
            var lang = stats.Languages.TryGetValue(s.Language!, out var ls) ? ls : stats.Languages[s.Language!] = new LanguageStats();
            lang.Files++; lang.Bytes += s.Length;
            var split = isValidation[i] ? stats.Validation : stats.Train;
            split.Files++; split.Bytes += s.Length;
            if (isValidation[i]) lang.ValidationFiles++; else lang.TrainFiles++;
            var rs = stats.PerRepo[name];
            rs.KeptFiles++; rs.KeptBytes += s.Length;
            if (s.Redactions != null)
                for (int k = 0; k < s.Redactions.Length; k++)
                    if (s.Redactions[k] > 0) stats.Redactions[Redactor.KindName((RedactionKind)k)] = stats.Redactions.GetValueOrDefault(Redactor.KindName((RedactionKind)k)) + s.Redactions[k];
        }
        foreach (var kind in Enum.GetValues<RedactionKind>()) stats.Redactions.TryAdd(Redactor.KindName(kind), 0);
        foreach (var (name, rs) in stats.PerRepo)
            if (rs.KeptFiles > 0) rs.Split = fileSplit ? "both" : validationRepos.Contains(name) ? "validation" : "train";
        stats.Train.Repos = stats.PerRepo.Where(kv => kv.Value.Split is "train" or "both").Select(kv => kv.Key).ToList();
        stats.Validation.Repos = stats.PerRepo.Where(kv => kv.Value.Split is "validation" or "both").Select(kv => kv.Key).ToList();

        long written = 0;
        IEnumerable<CorpusRecord> Rows(bool validation)
        {
            for (int i = 0; i < n; i++)
            {
                if (!alive[i] || isValidation[i] != validation) continue;
                var r = repos[files[i].Repo];
                var s = state[i];
                yield return new CorpusRecord(r.Name, files[i].Path, s.Language!, r.License, r.Commit!, spill.Read(s.Offset, s.Length));
                if (progress != null && (++written & 255) == 0)
                    progress.Report(new CorpusProgress("write", files[i].Path, 0, 0, written, stats.Kept.Files, 0, 0));
            }
        }
        Directory.CreateDirectory(o.OutDir);
        await CorpusFiles.WriteAsync(Path.Combine(o.OutDir, CorpusFiles.Train), Rows(false), ct);
        await CorpusFiles.WriteAsync(Path.Combine(o.OutDir, CorpusFiles.Validation), Rows(true), ct);
        AtomicFile.WriteAllText(Path.Combine(o.OutDir, CorpusStats.FileName), JsonSerializer.Serialize(stats, CorpusStats.Json) + "\n");
        progress?.Report(new CorpusProgress("write", null, 0, 0, stats.Kept.Files, stats.Kept.Files, 0, 0));
        stats.Timings = new CorpusTimings(TimeSpan.Zero, scanTime, dedupTime, sw.Elapsed) { ScanDedupCpu = scanDedupCpu };
        return stats;
    }

    internal static string CachePath(CorpusBuildOptions o, CrawledRepo r) =>
        Path.Combine(o.CacheDir, r.CacheKey ?? throw new InvalidDataException($"manifest entry {r.Name} has no cache key"));

    private static FileState ScanOne(CorpusBuildOptions o, List<CrawledRepo> repos, FileEntry f, Dictionary<int, Repository> open,
                                     ContentSpill spill, MinHasher hasher, Span<uint> signature, ConcurrentDictionary<int, string> failed, CancellationToken ct)
    {
        var s = new FileState { InputBytes = f.Size };
        byte[] bytes;
        try
        {
            if (!open.TryGetValue(f.Repo, out var repo)) open[f.Repo] = repo = new Repository(CachePath(o, repos[f.Repo]));
            var blob = repo.Lookup<Blob>(f.Blob) ?? throw new InvalidDataException($"blob {f.Blob} of {f.Path} is missing");
            bytes = new byte[blob.Size];
            using var stream = blob.GetContentStream();
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException or InvalidDataException or EndOfStreamException)
        {
            failed.TryAdd(f.Repo, $"corrupt repository: cannot read {f.Path}: {e.Message.Trim()}");
            s.Drop = "repo-failed";
            return s;
        }
        var cleaned = FileCleaner.Clean(f.Path, f.Language, bytes, o.Cleaning, ct);
        if (cleaned.DropReason != null) { s.Drop = cleaned.DropReason; return s; }
        var text = cleaned.Text!;
        s.Language = cleaned.Language;
        s.Redactions = cleaned.Redactions;
        if (o.Dedup.Exact) s.Hash = ExactHash.Compute(text);
        if (o.Dedup.Near) s.Shingles = hasher.Compute(text, signature);
        (s.Offset, s.Length) = spill.Append(text);
        return s;
    }

    private static void Bump(SortedDictionary<string, FilesAndBytes> d, string key, long bytes)
    {
        if (!d.TryGetValue(key, out var v)) d[key] = v = new FilesAndBytes();
        v.Add(bytes);
    }
}
