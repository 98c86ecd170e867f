using System.Collections.Concurrent;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Decontamination;

namespace CodeLm.DataPipeline.Corpus.Steps;

/// <summary>What the steps of one clean share: options, the manifest's repositories, progress, cancellation, and the
/// repositories found unreadable so far.</summary>
internal sealed class CorpusRun(CorpusBuildOptions options, IReadOnlyList<CrawledRepo> repos, IProgress<CorpusProgress>? progress, CancellationToken ct)
{
    // Scan workers report failures concurrently.
    private readonly ConcurrentDictionary<int, string> _failures = new();

    public CorpusBuildOptions Options { get; } = options;
    public IReadOnlyList<CrawledRepo> Repos { get; } = repos;
    public IProgress<CorpusProgress>? Progress { get; } = progress;
    public CancellationToken Ct { get; } = ct;
    /// <summary>Built once per run: it hashes every benchmark problem.</summary>
    public BenchmarkMatcher? Matcher { get; } = options.Decontamination is { Benchmarks.Count: > 0 } d ? new BenchmarkMatcher(d) : null;

    public string RepoName(CorpusFile f) => Repos[f.Repo].Name;

    /// <summary>The repository a file belongs to for the split: a dataset row's own, a clone's name otherwise.</summary>
    public string SplitName(CorpusFile f) => f.RowRepo ?? Repos[f.Repo].Name;

    public string CachePath(int repo) =>
        Path.Combine(Options.CacheDir, Repos[repo].CacheKey ?? throw new InvalidDataException($"manifest entry {Repos[repo].Name} has no cache key"));

    /// <summary>Records why a repository cannot be used; the first reason found is the one reported.</summary>
    public void Fail(int repo, string reason) => _failures.TryAdd(repo, reason);

    public bool HasFailed(int repo) => _failures.ContainsKey(repo);

    public string FailureOf(int repo) => _failures[repo];

    public IEnumerable<KeyValuePair<int, string>> Failures => _failures;
}
