using System.Text.Json;
using CodeLm.Common;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;

namespace CodeLm.Eval.Generation;

/// <summary>Progress of generation, in problems.</summary>
public sealed record GenerationProgress(int DoneProblems, int TotalProblems, int ResumedProblems, string? LastTaskId);

/// <summary>
/// Draws n completions per problem from an <see cref="ICompletionSource"/>: the prompt is the language tag line (as in
/// training) plus the problem's prompt, generation stops at the language's stop sequences, and each completion is cut at
/// the end of the function. samples.jsonl gets one line per sample (task_id, completion, raw) as each problem finishes;
/// a rerun keeps problems that already have n samples.
/// </summary>
public static class SampleGenerator
{
    public static string BuildPrompt(Problem problem) => LanguageTag.Prefix(problem.Language) + problem.Prompt;

    public static IReadOnlyList<Sample> Generate(ICompletionSource source, IReadOnlyList<Problem> problems, int n, string samplesPath,
        IProgress<GenerationProgress>? progress = null, CancellationToken ct = default)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), "n must be at least 1");
        var existing = File.Exists(samplesPath) ? LoadTolerant(samplesPath) : [];
        var wanted = problems.Select(p => p.TaskId).ToHashSet();
        var keptGroups = existing.GroupBy(e => e.Sample.TaskId).Where(g => g.Count() >= n && wanted.Contains(g.Key))
            .ToDictionary(g => g.Key, g => g.Take(n).ToList());
        // Kept lines are rewritten verbatim (with their raw text), in problem order.
        AtomicFile.WriteAllLines(samplesPath, problems.Where(p => keptGroups.ContainsKey(p.TaskId)).SelectMany(p => keptGroups[p.TaskId]).Select(e => e.Line));
        var kept = keptGroups.ToDictionary(kv => kv.Key, kv => kv.Value.Select(e => e.Sample).ToList());

        var resumed = problems.Count(p => kept.ContainsKey(p.TaskId));
        var done = resumed;
        progress?.Report(new GenerationProgress(done, problems.Count, resumed, null));
        using var append = new StreamWriter(new FileStream(samplesPath, FileMode.Append, FileAccess.Write, FileShare.Read));
        foreach (var problem in problems)
        {
            ct.ThrowIfCancellationRequested();
            if (kept.ContainsKey(problem.TaskId)) continue;
            var raws = source.Complete(BuildPrompt(problem), n, StopSequences.For(problem.Language), ct);
            if (raws.Count != n) throw new InvalidOperationException($"the completion source returned {raws.Count} completions for {problem.TaskId}, expected {n}");
            var samples = raws.Select(raw => new Sample(problem.TaskId, CompletionTruncation.Truncate(problem.Language, problem.Prompt, raw))).ToList();
            for (var i = 0; i < n; i++)
                append.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
                    { ["task_id"] = problem.TaskId, ["completion"] = samples[i].Completion, ["raw"] = raws[i] }));
            append.Flush();
            kept[problem.TaskId] = samples;
            progress?.Report(new GenerationProgress(++done, problems.Count, resumed, problem.TaskId));
        }
        return problems.Where(p => kept.ContainsKey(p.TaskId)).SelectMany(p => kept[p.TaskId]).ToList();
    }

    /// <summary>Reads samples with their original lines, dropping a torn last line left by an interrupted run.</summary>
    private static List<(Sample Sample, string Line)> LoadTolerant(string path)
    {
        var result = new List<(Sample, string)>();
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                var root = doc.RootElement;
                result.Add((new Sample(root.GetProperty("task_id").GetString()!, root.GetProperty("completion").GetString()!), lines[i]));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                if (i == lines.Count - 1) break; // torn by an interrupted run: that problem is regenerated
                throw new InvalidDataException($"{path}:{i + 1}: not a sample line ({e.Message}); move the file away to start over");
            }
        }
        return result;
    }
}
