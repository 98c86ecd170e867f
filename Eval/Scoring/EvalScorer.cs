using System.Collections.Concurrent;
using CodeLm.Common;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Scoring;

/// <summary>Where results go and how wide to run.</summary>
public sealed record ScoreOptions(string OutputDir, IReadOnlyList<int> K, int Jobs)
{
    /// <summary>The k values reported unless asked otherwise (HumanEval's).</summary>
    public static IReadOnlyList<int> DefaultK { get; } = [1, 10, 100];

    /// <summary>Per-candidate wall-clock limit; null uses the executor's.</summary>
    public TimeSpan? Timeout { get; init; }

    public string ResultsPath => Path.Combine(OutputDir, "results.jsonl");
    public string SummaryPath => Path.Combine(OutputDir, "summary.json");
}

/// <summary>Progress of a scoring run, in samples and problems (resumed problems count as done from the start).</summary>
public sealed record EvalProgress(int DoneSamples, int TotalSamples, int DoneProblems, int TotalProblems, int PassedSamples, int ResumedProblems);

/// <summary>
/// Executes every sample of every problem in parallel (one sandbox slot per worker), appends each problem's verdicts to
/// results.jsonl as soon as its last sample finishes, skips problems already there with the same samples (resume), and
/// writes summary.json.
/// </summary>
public static class EvalScorer
{
    public static async Task<EvalSummary> ScoreAsync(CandidateExecutor executor, IReadOnlyList<Problem> problems, IReadOnlyList<Sample> samples,
        ScoreOptions options, IProgress<EvalProgress>? progress = null, CancellationToken ct = default)
    {
        if (options.Jobs < 1) throw new ArgumentOutOfRangeException(nameof(options), "jobs must be at least 1");
        var byTask = samples.GroupBy(s => s.TaskId).ToDictionary(g => g.Key, g => g.Select(s => s.Completion).ToList(), StringComparer.Ordinal);
        var known = problems.Select(p => p.TaskId).ToHashSet(StringComparer.Ordinal);
        var unknown = byTask.Keys.Where(t => !known.Contains(t)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"{unknown.Count} sample task id(s) are not in the problem set, e.g. '{unknown[0]}'; is it the problem set the samples were made for?");
        var todo = problems.Where(p => byTask.ContainsKey(p.TaskId)).ToList();
        if (todo.Count == 0) throw new InvalidDataException("no samples for any problem in the problem set");

        Directory.CreateDirectory(options.OutputDir);
        var previous = ResultsFile.Load(options.ResultsPath);
        var finished = new ConcurrentDictionary<string, ProblemResult>(StringComparer.Ordinal);
        var pending = new List<(Problem Problem, List<string> Completions, string Hash)>();
        foreach (var p in todo)
        {
            var completions = byTask[p.TaskId];
            var hash = ProblemResult.HashSamples(completions);
            // A result recorded while the toolchain was missing is redone once it is available.
            if (previous.TryGetValue(p.TaskId, out var r) && r.SamplesHash == hash && !(r.AllUnavailable && executor.IsAvailable(p.Language)))
                finished[p.TaskId] = r;
            else pending.Add((p, completions, hash));
        }
        ResultsFile.Rewrite(options.ResultsPath, todo.Where(p => finished.ContainsKey(p.TaskId)).Select(p => finished[p.TaskId]));

        var totalSamples = todo.Sum(p => byTask[p.TaskId].Count);
        var resumed = finished.Count;
        var doneSamples = finished.Values.Sum(r => r.N);
        var passedSamples = finished.Values.Sum(r => r.Passed);
        var doneProblems = resumed;
        progress?.Report(new EvalProgress(doneSamples, totalSamples, doneProblems, todo.Count, passedSamples, resumed));

        var slots = new ConcurrentBag<int>(Enumerable.Range(0, options.Jobs));
        var gate = new object();
        await using var append = new StreamWriter(new FileStream(options.ResultsPath, FileMode.Append, FileAccess.Write, FileShare.Read));
        var perProblem = pending.ToDictionary(p => p.Problem.TaskId, p => (Results: new SampleResult[p.Completions.Count], Remaining: new int[] { p.Completions.Count }));
        var work = pending.SelectMany(p => p.Completions.Select((c, i) => (p.Problem, Index: i, Completion: c, p.Hash)));

        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = options.Jobs, CancellationToken = ct }, async (item, token) =>
        {
            if (!slots.TryTake(out var slot)) throw new InvalidOperationException("no free sandbox slot");
            ExecutionResult r;
            try { r = await executor.ExecuteAsync(item.Problem, item.Completion, slot, token, options.Timeout); }
            finally { slots.Add(slot); }
            var entry = perProblem[item.Problem.TaskId];
            entry.Results[item.Index] = new SampleResult(item.Index, ExecutionResult.StatusName(r.Status), r.ExitCode, r.DurationMs,
                r.Detail.Length == 0 ? null : r.Detail);
            lock (gate)
            {
                doneSamples++;
                if (r.Status == ExecutionStatus.Passed) passedSamples++;
                if (--entry.Remaining[0] == 0)
                {
                    var result = new ProblemResult(item.Problem.TaskId, item.Problem.Language, entry.Results.Length,
                        entry.Results.Count(s => s.Status == "passed"), item.Hash, entry.Results);
                    finished[result.TaskId] = result;
                    append.WriteLine(ResultsFile.ToJsonLine(result));
                    append.Flush();
                    doneProblems++;
                }
                progress?.Report(new EvalProgress(doneSamples, totalSamples, doneProblems, todo.Count, passedSamples, resumed));
            }
        });
        await append.DisposeAsync();

        // Final order follows the problem set, whatever order problems finished in.
        var ordered = todo.Select(p => finished[p.TaskId]).ToList();
        ResultsFile.Rewrite(options.ResultsPath, ordered);
        var toolchains = executor.Toolchains.Where(kv => todo.Any(p => p.Language == kv.Key))
            .ToDictionary(kv => kv.Key, kv => (kv.Value.Available ? "available: " : "unavailable: ") + kv.Value.Detail);
        var summary = EvalSummary.Compute(ordered, options.K, toolchains, executor.SandboxNotes, problems.Count - todo.Count);
        AtomicFile.WriteAllText(options.SummaryPath, summary.ToJson());
        var plot = Path.Combine(options.OutputDir, PassAtKPng.FileName);
        if (!PassAtKPng.Write(plot, summary)) File.Delete(plot); // a rerun with one k must not leave an old plot beside it
        return summary;
    }
}
