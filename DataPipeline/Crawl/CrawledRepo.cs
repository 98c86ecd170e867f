namespace CodeLm.DataPipeline.Crawl;

/// <summary>Outcome of crawling one source; one entry of manifest.json's "repos".</summary>
public sealed record CrawledRepo
{
    public const string Ok = "ok", Skipped = "skipped", Failed = "failed";
    /// <summary>The license of a dataset source: each of its rows has its own.</summary>
    public const string PerRowLicense = "per-row";

    /// <summary>The repository's name in the corpus (the <c>repo</c> column).</summary>
    public required string Name { get; init; }
    /// <summary>The source as given, without credentials.</summary>
    public required string Url { get; init; }
    public string? Ref { get; init; }
    public string? Commit { get; init; }
    public string License { get; init; } = LicenseDetector.Unknown;
    public required string Status { get; init; }
    public string? Reason { get; init; }
    /// <summary>Set when the source is a Parquet dataset rather than a git repository: its column layout.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<DatasetLayout>))]
    public DatasetLayout? Dataset { get; init; }
    /// <summary>The clone's folder name inside the cache directory.</summary>
    public string? CacheKey { get; init; }
}
