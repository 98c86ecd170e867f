using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Decontamination;
using CodeLm.DataPipeline.Dedup;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>Everything <see cref="CorpusBuilder"/> needs. Only <see cref="Sources"/>, <see cref="CacheDir"/> and <see cref="OutDir"/> are required.</summary>
public sealed record CorpusBuildOptions
{
    /// <summary>Repositories: URLs or local paths (working or bare repositories), each with an optional branch/tag/commit pin.</summary>
    public required IReadOnlyList<RepoSource> Sources { get; init; }
    /// <summary>Where bare clones are kept between runs.</summary>
    public required string CacheDir { get; init; }
    /// <summary>The corpus directory: manifest.json, train.parquet, validation.parquet, stats.json.</summary>
    public required string OutDir { get; init; }
    public CleaningOptions Cleaning { get; init; } = new();
    public DedupOptions Dedup { get; init; } = new();
    /// <summary>SPDX ids a repository must have (any of, for "A OR B"); null keeps every license including "unknown".</summary>
    public IReadOnlyList<string>? LicenseAllowList { get; init; }
    /// <summary>Target share of kept bytes that goes to validation, chosen by whole repositories.</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Seeds the repository split and the MinHash permutations.</summary>
    public ulong Seed { get; init; } = 0;
    /// <summary>When only one repository is kept there is no repository-level split; split its files instead (stats say so).</summary>
    public bool SingleRepositoryFileSplit { get; init; } = true;
    /// <summary>Benchmarks whose problems are removed from the corpus; null removes nothing.</summary>
    public DecontaminationOptions? Decontamination { get; init; }
    /// <summary>
    /// How many sources may fail (clone, fetch or read) while the corpus is still written from the rest. More failures, or
    /// no readable source at all, throw <see cref="SourceFailuresException"/> before anything is written.
    /// </summary>
    public int AllowedFailures { get; init; } = 0;
    /// <summary>Worker threads for cleaning, and concurrent clones.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
    /// <summary>Environment variable that holds a token for private HTTPS repositories. The token is never logged or stored.</summary>
    public string TokenVariable { get; init; } = Secrets.DefaultTokenVariable;
}
