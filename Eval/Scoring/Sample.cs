using System.Text.Json;
using CodeLm.Common;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Scoring;

/// <summary>One completion for one problem (human-eval's samples.jsonl line: task_id + completion).</summary>
public sealed record Sample(string TaskId, string Completion);

/// <summary>Reads and writes samples JSONL: <c>{"task_id": ..., "completion": ...}</c> per line ("generation" is read too), gzip or plain.</summary>
public static class SampleFile
{
    public static IReadOnlyList<Sample> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"samples file not found: {path}", path);
        var samples = new List<Sample>();
        using var reader = new StreamReader(ProblemSet.OpenMaybeGzip(path));
        var lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement root;
            try { root = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNo}: not valid JSON ({e.Message})"); }
            var taskId = root.TryGetProperty("task_id", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()!
                : throw new InvalidDataException($"{path}:{lineNo}: missing string field 'task_id'");
            var completion = root.TryGetProperty("completion", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()!
                : root.TryGetProperty("generation", out var g) && g.ValueKind == JsonValueKind.String ? g.GetString()!
                : throw new InvalidDataException($"{path}:{lineNo}: missing string field 'completion'");
            samples.Add(new Sample(taskId, completion));
        }
        return samples;
    }

    public static string ToJsonLine(Sample s) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["task_id"] = s.TaskId, ["completion"] = s.Completion });

    /// <summary>Writes all samples atomically (temp file, then rename).</summary>
    public static void Write(string path, IEnumerable<Sample> samples) =>
        AtomicFile.WriteAllLines(path, samples.Select(ToJsonLine));
}
