using System.Collections.Concurrent;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Dedup;
using LibGit2Sharp;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>
/// Reads, filters, cleans and hashes every listed file, in parallel across files, and appends the cleaned text to the
/// spill. Leaves a verdict on each file (<see cref="CorpusFile.Cleaned"/> or <see cref="CorpusFile.Reject"/>) and returns
/// the MinHash signatures, one row per file; nothing is counted here (see <see cref="CountStep"/>).
/// </summary>
internal static class ScanStep
{
    // libgit2 re-hashes every object it reads by default, which git itself does not do. Every object of a cached clone
    // was hashed once by the indexer when it was fetched; hashing again on each read was ~12 % of a build's CPU.
    static ScanStep() => GlobalSettings.SetStrictHashVerification(false);

    public static uint[] Run(CorpusRun run, Listing listing, ContentSpill spill)
    {
        var o = run.Options;
        var files = listing.Files;
        int n = files.Count, p = o.Dedup.Permutations;
        var hasher = new MinHasher(p, o.Dedup.ShingleSize, 0x9E3779B97F4A7C15UL ^ o.Seed);
        var signatures = new uint[(long)n * p];
        long totalBytes = files.Sum(f => f.Size), doneBytes = 0, doneFiles = 0;
        using (var timer = run.Progress == null ? null : new Timer(_ =>
                   run.Progress.Report(new CorpusProgress("scan", null, 0, listing.Repos, Interlocked.Read(ref doneFiles), n, Interlocked.Read(ref doneBytes), totalBytes)),
                   null, 200, 250))
        {
            int workers = Math.Max(1, o.Parallelism);
            // Each worker opens its own Repository per repository it meets: libgit2 handles are not shared across threads.
            if (n > 0) Parallel.ForEach(Partitioner.Create(0, n, Math.Clamp(n / (8 * workers) + 1, 1, 64)),
                new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = run.Ct },
                () => new Dictionary<int, Repository>(),
                (range, _, open) =>
                {
                    for (int i = range.Item1; i < range.Item2; i++)
                    {
                        run.Ct.ThrowIfCancellationRequested();
                        ScanOne(run, files[i], open, spill, hasher, signatures.AsSpan((int)((long)i * p), p));
                        Interlocked.Add(ref doneBytes, files[i].Size);
                        Interlocked.Increment(ref doneFiles);
                    }
                    return open;
                },
                open => { foreach (var r in open.Values) r.Dispose(); });
        }
        spill.FinishWriting();
        run.Progress?.Report(new CorpusProgress("scan", null, listing.Repos, listing.Repos, n, n, totalBytes, totalBytes));
        return signatures;
    }

    private static void ScanOne(CorpusRun run, CorpusFile f, Dictionary<int, Repository> open, ContentSpill spill, MinHasher hasher, Span<uint> signature)
    {
        var o = run.Options;
        var bytes = run.HasFailed(f.Repo) ? null : f.Inline ?? Read(run, f, open);
        f.Inline = null;
        if (bytes == null) { f.Reject(DropReason.RepoFailed); return; }
        var cleaned = FileCleaner.Clean(f.Path, f.Language, bytes, o.Cleaning, run.Ct);
        if (cleaned.Drop is { } reason) { f.Reject(reason); return; }
        var text = cleaned.Text!;
        if (run.Matcher?.Find(text) is { } match) { f.RejectContaminated(match.Benchmark); return; }
        var hash = o.Dedup.Exact ? ExactHash.Compute(text) : default;
        int shingles = o.Dedup.Near ? hasher.Compute(text, signature) : 0;
        f.Cleaned(cleaned, hash, shingles, spill.Append(text));
    }

    /// <summary>The blob's bytes, or null when the clone is broken, which fails the whole repository.</summary>
    private static byte[]? Read(CorpusRun run, CorpusFile f, Dictionary<int, Repository> open)
    {
        try
        {
            if (!open.TryGetValue(f.Repo, out var repo)) open[f.Repo] = repo = new Repository(run.CachePath(f.Repo));
            var blob = repo.Lookup<Blob>(f.Blob) ?? throw new InvalidDataException($"blob {f.Blob} of {f.Path} is missing");
            var bytes = new byte[blob.Size];
            using var stream = blob.GetContentStream();
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException or InvalidDataException or EndOfStreamException)
        {
            run.Fail(f.Repo, $"corrupt repository: cannot read {f.Path}: {e.Message.Trim()}");
            return null;
        }
    }
}
