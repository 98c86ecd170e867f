using System.Text.Json;
using CodeLm.Common;
using CodeLm.Common.Completion;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;

namespace CodeLm.Eval.Generation;

/// <summary>Progress of generation, in problems.</summary>
public sealed record GenerationProgress(int DoneProblems, int TotalProblems, int ResumedProblems, string? LastTaskId);

/// <summary>
/// Draws n completions per problem from an <see cref="ICompletionSource"/>: the prompt is the language tag line (as in
/// training) plus the problem's prompt (or the problem's own <see cref="Problem.ModelPrompt"/>), generation stops at the
/// language's stop sequences, and each completion is cut at the end of the function. An infilling problem is asked as
/// the editor asks (fill in the middle) and its answer shaped as the editor shapes it, so the score is of what a user
/// would be shown. samples.jsonl gets one line per sample (task_id, completion, raw) as each problem finishes; a rerun
/// keeps problems that already have n samples.
/// </summary>
public static class SampleGenerator
{
    public static string BuildPrompt(Problem problem) => problem.ModelPrompt ?? LanguageTag.Prefix(problem.Language) + problem.Prompt;

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
            var (raws, samples) = problem.Infill is { } site ? Infill(source, problem, site, n, ct) : Complete(source, problem, n, ct);
            for (var i = 0; i < n; i++)
                append.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
                    { ["task_id"] = problem.TaskId, ["completion"] = samples[i].Completion, ["raw"] = raws[i] }));
            append.Flush();
            kept[problem.TaskId] = samples;
            progress?.Report(new GenerationProgress(++done, problems.Count, resumed, problem.TaskId));
        }
        return problems.Where(p => kept.ContainsKey(p.TaskId)).SelectMany(p => kept[p.TaskId]).ToList();
    }

    private static (IReadOnlyList<string>, List<Sample>) Complete(ICompletionSource source, Problem problem, int n, CancellationToken ct)
    {
        var raws = Checked(source.Complete(BuildPrompt(problem), n, StopSequences.For(problem.Language), ct), problem, n);
        return (raws, [.. raws.Select(raw => new Sample(problem.TaskId, CompletionTruncation.Truncate(problem.Language, problem.Prompt, raw)))]);
    }

    private static (IReadOnlyList<string>, List<Sample>) Infill(ICompletionSource source, Problem problem, InfillSite site, int n, CancellationToken ct)
    {
        var cursor = CursorContext.Create(problem.Prompt + site.Suffix, problem.Prompt.Length) with { Mode = site.Mode };
        var raws = Checked(source.Infill(LanguageTag.Prefix(problem.Language) + problem.Prompt, site.Suffix, n,
            text => CompletionShaper.ShouldStop(cursor, text), ct), problem, n);
        // What the editor would insert; nothing shown is an empty answer. The cursor's line holds nothing to replace.
        return (raws, [.. raws.Select(raw => new Sample(problem.TaskId, CompletionShaper.Shape(cursor, raw)?.InsertText ?? ""))]);
    }

    private static IReadOnlyList<string> Checked(IReadOnlyList<string> raws, Problem problem, int n) => raws.Count == n ? raws
        : throw new InvalidOperationException($"the completion source returned {raws.Count} completions for {problem.TaskId}, expected {n}");

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
