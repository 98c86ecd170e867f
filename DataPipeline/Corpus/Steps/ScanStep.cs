using System.Collections.Concurrent;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Crawl;
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
        int largest = (int)Math.Min(o.Cleaning.MaxFileBytes, files.Count == 0 ? 0 : files.Max(f => f.Size));
        using (var timer = run.Progress == null ? null : new Timer(_ =>
                   run.Progress.Report(new CorpusProgress("scan", null, 0, listing.Repos, Interlocked.Read(ref doneFiles), n, Interlocked.Read(ref doneBytes), totalBytes)),
                   null, 200, 250))
        {
            int workers = Math.Max(1, o.Parallelism);
            if (n > 0) Parallel.ForEach(Partitioner.Create(0, n, Math.Clamp(n / (8 * workers) + 1, 1, 16)),
                new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = run.Ct },
                () => new Worker(largest),
                (range, _, worker) =>
                {
                    for (int i = range.Item1; i < range.Item2; i++)
                    {
                        run.Ct.ThrowIfCancellationRequested();
                        ScanOne(run, files[i], worker, spill, hasher, signatures.AsSpan((int)((long)i * p), p));
                        Interlocked.Add(ref doneBytes, files[i].Size);
                        Interlocked.Increment(ref doneFiles);
                    }
                    return worker;
                },
                worker => worker.Dispose());
        }
        spill.FinishWriting();
        run.Progress?.Report(new CorpusProgress("scan", null, listing.Repos, listing.Repos, n, n, totalBytes, totalBytes));
        return signatures;
    }

    private static void ScanOne(CorpusRun run, CorpusFile f, Worker worker, ContentSpill spill, MinHasher hasher, Span<uint> signature)
    {
        var o = run.Options;
        var bytes = run.HasFailed(f.Repo) ? null : f.Inline ?? Read(run, f, worker);
        f.Inline = null;
        if (bytes is not { } input) { f.Reject(DropReason.RepoFailed); return; }
        var cleaned = worker.Cleaner.Clean(f.Path, f.Language, input, o.Cleaning, run.Ct);
        if (cleaned.Drop is { } reason) { f.Reject(reason); return; }
        var text = cleaned.Text.Span;
        if (run.Matcher?.Find(text.ToString()) is { } match) { f.RejectContaminated(match.Benchmark); return; }
        var hash = o.Dedup.Exact ? ExactHash.Compute(text, worker.Chars(text.Length)) : default;
        int shingles = o.Dedup.Near ? hasher.Compute(text, signature, worker.Shingles(text.Length)) : 0;
        f.Cleaned(cleaned, hash, shingles, spill.Append(cleaned.Utf8.Span));
    }

    /// <summary>The blob's bytes (in the worker's buffer), or null when the clone is broken, which fails the whole repository.</summary>
    private static ReadOnlyMemory<byte>? Read(CorpusRun run, CorpusFile f, Worker worker)
    {
        try
        {
            if (!worker.Open.TryGetValue(f.Repo, out var reader)) worker.Open[f.Repo] = reader = new BlobReader(run.CachePath(f.Repo));
            return worker.Read(reader, f.Blob);
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException or InvalidDataException)
        {
            run.Fail(f.Repo, $"corrupt repository: cannot read {f.Path}: {e.Message.Trim()}");
            return null;
        }
    }

    /// <summary>
    /// One scan thread's state. It opens its own reader per repository it meets (libgit2 handles are not shared across
    /// threads) and keeps its buffers, sized once for the largest listed file and held outside the GC heap
    /// (<see cref="NativeBuffer{T}"/>): fresh arrays per file put every large file on the large-object heap several times
    /// over, and its budget then forced a full, blocking collection every few megabytes.
    /// </summary>
    private sealed class Worker(int largest) : IDisposable
    {
        public readonly Dictionary<int, BlobReader> Open = [];
        public readonly FileCleaner Cleaner = new(largest);
        private NativeBuffer<byte> _bytes = new(largest);
        private NativeBuffer<char> _chars = new(largest + 1);
        private NativeBuffer<uint> _shingles = new(MinHasher.ScratchLength(largest + 1));
        private Func<int, Memory<byte>>? _blobBuffer;

        // (A file outgrows its listed size only as a blob changed since listing; the buffers then grow.)
        public Memory<byte> Read(BlobReader reader, ObjectId blob) => reader.Read(blob, _blobBuffer ??= size => NativeBuffer<byte>.AtLeast(ref _bytes, size).Memory);
        public Span<char> Chars(int length) => NativeBuffer<char>.AtLeast(ref _chars, length).GetSpan();
        public Span<uint> Shingles(int textLength) => NativeBuffer<uint>.AtLeast(ref _shingles, MinHasher.ScratchLength(textLength)).GetSpan();

        public void Dispose()
        {
            foreach (var r in Open.Values) r.Dispose();
            Cleaner.Dispose();
            _bytes.Free();
            _chars.Free();
            _shingles.Free();
        }
    }
}
