using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CodeLm.Common;
using CodeLm.Eval.Execution;

namespace CodeLm.Eval.Scoring;

/// <summary>The outcome of one sample of a problem.</summary>
public sealed record SampleResult(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("exit_code")] int? ExitCode,
    [property: JsonPropertyName("duration_ms")] long DurationMs,
    [property: JsonPropertyName("stderr")] string? Stderr);

/// <summary>One line of results.jsonl: a problem, its n samples, how many passed, and each sample's verdict.</summary>
public sealed record ProblemResult(
    [property: JsonPropertyName("task_id")] string TaskId,
    [property: JsonPropertyName("language")] string Language,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("passed")] int Passed,
    [property: JsonPropertyName("samples_sha256")] string SamplesHash,
    [property: JsonPropertyName("samples")] IReadOnlyList<SampleResult> Samples)
{
    [JsonIgnore]
    public bool AllUnavailable => Samples.Count > 0 && Samples.All(s => s.Status == ExecutionResult.StatusName(ExecutionStatus.Unavailable));

    /// <summary>Identifies the completions a result was computed from, so a resumed run reruns a problem whose samples changed.</summary>
    public static string HashSamples(IEnumerable<string> completions)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var c in completions)
        {
            var bytes = Encoding.UTF8.GetBytes(c);
            sha.AppendData(BitConverter.GetBytes(bytes.Length));
            sha.AppendData(bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

/// <summary>results.jsonl: appended one problem at a time as problems finish, read back to resume.</summary>
public static class ResultsFile
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string ToJsonLine(ProblemResult r) => JsonSerializer.Serialize(r, Json);

    /// <summary>Reads finished problems; a torn last line (a run killed mid-write) is ignored and will be redone.</summary>
    public static Dictionary<string, ProblemResult> Load(string path)
    {
        var results = new Dictionary<string, ProblemResult>(StringComparer.Ordinal);
        if (!File.Exists(path)) return results;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonSerializer.Deserialize<ProblemResult>(line, Json) is { TaskId: not null, Samples: not null } r) results[r.TaskId] = r;
            }
            catch (JsonException) { }
        }
        return results;
    }

    /// <summary>Rewrites the file with exactly these results (drops torn or stale lines), atomically.</summary>
    public static void Rewrite(string path, IEnumerable<ProblemResult> results) =>
        AtomicFile.WriteAllLines(path, results.Select(ToJsonLine));
}
