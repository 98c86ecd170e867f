namespace CodeLm.DataPipeline.Distributed;

/// <summary>
/// The layout of a staged build's work directory, the only way its stages talk to each other (a POSIX path shared by
/// every node):
/// <code>
/// crawl/rank-R.json                       each source's crawl result, by source index
/// clean/rank-R/{files.bin, signatures.bin, content.bin}
/// buckets/band-B.keys                     every file's key in band B
/// cluster/{files.bin, stats.json}         each file's fate and side, and the corpus statistics
/// done/STAGE-R                            completion markers: a rerun skips a rank that has one
/// logs/STAGE-R.log                        what the local and Slurm executors capture
/// </code>
/// Every output is written under a temporary name and renamed into place, so a killed rank leaves no half file.
/// </summary>
public sealed class WorkDirectory(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string CrawlResult(int rank) => Path.Combine(Root, "crawl", $"rank-{rank}.json");
    public string CleanRank(int rank) => Path.Combine(Root, "clean", $"rank-{rank}");
    public string BandKeys(int band) => Path.Combine(Root, "buckets", $"band-{band}.keys");
    public string Cluster => Path.Combine(Root, "cluster");
    public string Done(DataStage stage, int rank) => Path.Combine(Root, "done", $"{stage.Name()}-{rank}");
    public string Log(DataStage stage, int rank) => Path.Combine(Root, "logs", $"{stage.Name()}-{rank}.log");

    public const string Files = "files.bin", Signatures = "signatures.bin", Content = "content.bin", Stats = "stats.json";

    public bool IsDone(DataStage stage, int rank) => File.Exists(Done(stage, rank));

    public void MarkDone(DataStage stage, int rank)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Done(stage, rank))!);
        Common.AtomicFile.WriteAllText(Done(stage, rank), DateTime.UtcNow.ToString("O") + "\n");
    }

    /// <summary>Reads a file another stage wrote, or says which stage has not run.</summary>
    public static string Require(string path, DataStage producer) =>
        File.Exists(path) || Directory.Exists(path) ? path
            : throw new FileNotFoundException($"{path} is missing: the {producer.Name()} stage has not finished for this work directory", path);
}
