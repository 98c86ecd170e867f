using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CodeLm.Eval.Execution;

namespace CodeLm.Eval.Scoring;

/// <summary>pass@k and verdict counts for one language (or "all").</summary>
public sealed record LanguageSummary(
    [property: JsonPropertyName("language")] string Language,
    [property: JsonPropertyName("problems")] int Problems,
    [property: JsonPropertyName("samples")] int Samples,
    [property: JsonPropertyName("min_samples_per_problem")] int MinSamplesPerProblem,
    [property: JsonPropertyName("statuses")] IReadOnlyDictionary<string, int> Statuses,
    [property: JsonPropertyName("pass_at_k")] IReadOnlyDictionary<string, double> PassAtK,
    [property: JsonPropertyName("note")] string? Note);

/// <summary>The summary saved as summary.json and printed as a table.</summary>
public sealed record EvalSummary(
    [property: JsonPropertyName("languages")] IReadOnlyList<LanguageSummary> Languages,
    [property: JsonPropertyName("requested_k")] IReadOnlyList<int> RequestedK,
    [property: JsonPropertyName("toolchains")] IReadOnlyDictionary<string, string> Toolchains,
    [property: JsonPropertyName("sandbox")] IReadOnlyList<string> Sandbox,
    [property: JsonPropertyName("problems_without_samples")] int ProblemsWithoutSamples)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static EvalSummary Load(string path) => JsonSerializer.Deserialize<EvalSummary>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path}: empty summary");

    /// <summary>
    /// Summarises per language, plus an "all" row when there is more than one. pass@k is reported only for k where
    /// every problem in the row has at least k samples; unavailable languages get a note instead.
    /// </summary>
    public static EvalSummary Compute(IEnumerable<ProblemResult> results, IReadOnlyList<int> ks, IReadOnlyDictionary<string, string> toolchains,
        IReadOnlyList<string> sandbox, int problemsWithoutSamples = 0)
    {
        var all = results.ToList();
        var rows = all.GroupBy(r => r.Language).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Row(g.Key, g.ToList(), ks, toolchains)).ToList();
        var available = all.Where(r => !r.AllUnavailable).ToList();
        if (rows.Count > 1 && available.Count > 0) rows.Add(Row("all", available, ks, toolchains));
        return new EvalSummary(rows, ks, toolchains, sandbox, problemsWithoutSamples);
    }

    private static LanguageSummary Row(string language, List<ProblemResult> results, IReadOnlyList<int> ks, IReadOnlyDictionary<string, string> toolchains)
    {
        var statuses = results.SelectMany(r => r.Samples).GroupBy(s => s.Status).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        var samples = results.Sum(r => r.N);
        var minN = results.Count == 0 ? 0 : results.Min(r => r.N);
        if (results.All(r => r.AllUnavailable))
            return new LanguageSummary(language, results.Count, samples, minN, statuses, new Dictionary<string, double>(),
                toolchains.TryGetValue(language, out var t) && t.StartsWith("unavailable", StringComparison.Ordinal) ? t : "unavailable: " + (t ?? "no toolchain"));
        var scored = results.Where(r => !r.AllUnavailable).ToList();
        var pass = new Dictionary<string, double>();
        var omitted = new List<int>();
        foreach (var k in ks.Distinct().Order())
        {
            if (scored.All(r => r.N >= k)) pass[$"pass@{k}"] = PassAtK.Mean(scored.Select(r => (r.N, r.Passed)), k);
            else omitted.Add(k);
        }
        var note = omitted.Count == 0 ? null : $"pass@{string.Join(",", omitted)} omitted: some problems have fewer samples (min {minN})";
        return new LanguageSummary(language, results.Count, samples, minN, statuses, pass, note);
    }

    /// <summary>A plain-text table (the CLI renders its own; this one is for logs and files).</summary>
    public string ToTable()
    {
        var ks = RequestedK.Distinct().Order().Select(k => $"pass@{k}").ToList();
        var header = new List<string> { "language", "problems", "samples" };
        header.AddRange(ks);
        header.AddRange(["passed", "failed", "timed_out", "compile_error", "note"]);
        var lines = new List<List<string>> { header };
        foreach (var row in Languages)
        {
            var cells = new List<string> { row.Language, row.Problems.ToString(CultureInfo.InvariantCulture), row.Samples.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(ks.Select(k => row.PassAtK.TryGetValue(k, out var v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-"));
            foreach (var s in new[] { ExecutionStatus.Passed, ExecutionStatus.Failed, ExecutionStatus.TimedOut, ExecutionStatus.CompileError })
                cells.Add(row.Statuses.TryGetValue(ExecutionResult.StatusName(s), out var n) ? n.ToString(CultureInfo.InvariantCulture) : "0");
            cells.Add(row.Note ?? "");
            lines.Add(cells);
        }
        var widths = Enumerable.Range(0, header.Count).Select(i => lines.Max(l => l[i].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var l in lines) sb.AppendLine(string.Join("  ", l.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        return sb.ToString();
    }
}
