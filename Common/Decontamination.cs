using System.Text.Json;

namespace CodeLm.Common;

/// <summary>
/// What a corpus was decontaminated against, in stats.json and manifest.json: the method, and per benchmark its file's
/// sha256 (how `codelm eval` recognises the benchmark it runs) and how many files it removed.
/// </summary>
public sealed class DecontaminationRecord
{
    public int NGram { get; set; }
    public int MinSubstringChars { get; set; }
    public List<DecontaminatedBenchmark> Benchmarks { get; set; } = [];

    /// <summary>The benchmark recorded with this sha256 (a problem file's, see the eval's ProblemSet.Sha256), or null.</summary>
    public DecontaminatedBenchmark? Find(string sha256) => Benchmarks.FirstOrDefault(b => b.Sha256 == sha256);
}

public sealed class DecontaminatedBenchmark
{
    public string Name { get; set; } = "";
    public string Source { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public int Problems { get; set; }
    public long DroppedFiles { get; set; }
    public long DroppedBytes { get; set; }
}

/// <summary>
/// training_data.json in a checkpoint: the corpus its shards came from (the sha256 over its Parquet files) and what that
/// corpus was decontaminated against, carried from the corpus manifest through the shard manifest by the trainer.
/// </summary>
public sealed class TrainingDataRecord
{
    public const string FileName = "training_data.json";
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public string CorpusHash { get; set; } = "";
    /// <summary>Null: the corpus was not decontaminated.</summary>
    public DecontaminationRecord? Decontamination { get; set; }

    public void Save(string dir) => AtomicFile.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>The record in a checkpoint directory, or null when it has none (trained elsewhere, or before it was kept).</summary>
    public static TrainingDataRecord? Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<TrainingDataRecord>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a valid training-data record: {e.Message}", e); }
    }
}
