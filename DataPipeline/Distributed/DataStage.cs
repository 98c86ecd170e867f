namespace CodeLm.DataPipeline.Distributed;

/// <summary>
/// The stages of a staged corpus build, in order. Each runs as ranks 0..N-1 of a world (a Slurm array, a Kubernetes
/// Indexed Job, or local processes) and hands files to the next through the work directory.
/// </summary>
public enum DataStage
{
    /// <summary>Clones or updates the sources whose cache key hashes to the rank.</summary>
    Crawl,
    /// <summary>Lists, filters, cleans, hashes and MinHashes a contiguous run of repositories (in name order).</summary>
    Clean,
    /// <summary>Every file's LSH key in the rank's range of bands.</summary>
    Buckets,
    /// <summary>One task: counts, exact dedup, near-duplicate clusters (union-find, smallest keeper), the split, stats.json.</summary>
    Cluster,
    /// <summary>One task: train.parquet and validation.parquet from the clean ranks' text, manifest.json and stats.json.</summary>
    Write,
}

public static class DataStages
{
    public static string Name(this DataStage stage) => stage.ToString().ToLowerInvariant();

    public static DataStage Parse(string name) =>
        Enum.TryParse<DataStage>(name, ignoreCase: true, out var s) && Enum.IsDefined(s)
            ? s : throw new ArgumentException($"unknown data stage '{name}' (stages: {string.Join(", ", Enum.GetValues<DataStage>().Select(Name))})");

    /// <summary>How many ranks the stage runs with in a build of <paramref name="world"/>: the reducers run alone.</summary>
    public static int Ranks(this DataStage stage, int world, int bands) => stage switch
    {
        DataStage.Cluster or DataStage.Write => 1,
        DataStage.Buckets => Math.Min(world, bands),
        _ => world,
    };

    /// <summary>The contiguous share [start, end) of <paramref name="count"/> items that rank <paramref name="rank"/> of <paramref name="ranks"/> takes.</summary>
    public static (int Start, int End) Share(int count, int rank, int ranks) =>
        ((int)((long)count * rank / ranks), (int)((long)count * (rank + 1) / ranks));
}
