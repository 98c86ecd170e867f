using CodeLm.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Dedup;

namespace CodeLm.DataPipeline.Corpus;

public sealed class FilesAndBytes
{
    public long Files { get; set; }
    public long Bytes { get; set; }
    public void Add(long bytes) { Files++; Bytes += bytes; }
}

public sealed class LanguageStats
{
    public long Files { get; set; }
    public long Bytes { get; set; }
    public long TrainFiles { get; set; }
    public long ValidationFiles { get; set; }
}

public sealed class SplitStats
{
    public List<string> Repos { get; set; } = [];
    public long Files { get; set; }
    public long Bytes { get; set; }
}

public sealed class RepoStats
{
    public string Status { get; set; } = "";
    public string? Reason { get; set; }
    public string? Split { get; set; }
    public long Files { get; set; }
    public long KeptFiles { get; set; }
    public long KeptBytes { get; set; }
}

public sealed class DuplicateStats
{
    public long ExactFiles { get; set; }
    public long ExactBytes { get; set; }
    public long NearFiles { get; set; }
    public long NearBytes { get; set; }
    public long NearClusters { get; set; }
    public long CandidatePairs { get; set; }
    public long VerifiedPairs { get; set; }
}

public sealed class RepoCounts
{
    public int Total { get; set; }
    public int Ok { get; set; }
    public int Skipped { get; set; }
    public int Failed { get; set; }
}

/// <summary>Wall-clock time per phase. Not part of stats.json (which must be byte-identical across runs).</summary>
public sealed record CorpusTimings(TimeSpan Crawl, TimeSpan Scan, TimeSpan Dedup, TimeSpan Write)
{
    /// <summary>Process CPU time spent in scan + dedup (all threads), for throughput per CPU-second on a shared machine.</summary>
    public TimeSpan ScanDedupCpu { get; init; }
}

/// <summary>stats.json: what was kept per language, dropped per filter, deduplicated and redacted.</summary>
public sealed class CorpusStats
{
    /// <summary>"repository", or "file" when a single repository had to be split by file.</summary>
    public string SplitBy { get; set; } = "repository";
    public RepoCounts Repos { get; set; } = new();
    public FilesAndBytes Input { get; set; } = new();
    public FilesAndBytes Kept { get; set; } = new();
    public SplitStats Train { get; set; } = new();
    public SplitStats Validation { get; set; } = new();
    public SortedDictionary<string, LanguageStats> Languages { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, FilesAndBytes> Dropped { get; set; } = new(StringComparer.Ordinal);
    public DuplicateStats Duplicates { get; set; } = new();
    public SortedDictionary<string, long> Redactions { get; set; } = new(StringComparer.Ordinal);
    public long CSharpSyntaxErrors { get; set; }
    public SortedDictionary<string, RepoStats> PerRepo { get; set; } = new(StringComparer.Ordinal);
    public CleaningOptions? Cleaning { get; set; }
    public DedupOptions? Dedup { get; set; }
    /// <summary>The benchmarks removed and how many files each took out; absent when the corpus was not decontaminated.</summary>
    public DecontaminationRecord? Decontamination { get; set; }

    [JsonIgnore] public CorpusTimings? Timings { get; set; }
    /// <summary>Bytes of MinHash state per file held in memory during dedup (the signature).</summary>
    [JsonIgnore] public int SignatureBytesPerFile { get; set; }
    /// <summary>Bytes of the blobs actually read and cleaned (files not dropped by path, size or symlink/submodule checks).</summary>
    [JsonIgnore] public long ScannedBytes { get; set; }
    [JsonIgnore] public long ScannedFiles { get; set; }

    public const string FileName = "stats.json";

    public static CorpusStats Load(string corpusDir)
    {
        var path = Path.Combine(corpusDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found; run `codelm data clean` first", path);
        return JsonSerializer.Deserialize(File.ReadAllText(path), CorpusJson.Files.CorpusStats) ?? throw new InvalidDataException($"{path} is empty");
    }
}
