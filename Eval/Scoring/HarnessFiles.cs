using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Scoring;

/// <summary>
/// bigcode-evaluation-harness's files, so generations and scores cross over with it: generations.json is a JSON list
/// with one list per problem, in problem order, of whole programs as the harness stores them (prompt + completion; for
/// an infilling task, prompt + middle + suffix); metrics.json maps a task name to its pass@k, beside a "config" object.
/// </summary>
public static class HarnessFiles
{
    public static void WriteGenerations(string path, IReadOnlyList<Problem> problems, IReadOnlyList<Sample> samples)
    {
        var byTask = samples.ToLookup(s => s.TaskId);
        var list = new JsonArray([.. problems.Select(p => (JsonNode)new JsonArray([.. byTask[p.TaskId].Select(s => (JsonNode)JsonValue.Create(p.Prompt + s.Completion + p.Infill?.Suffix)!)]))]);
        AtomicFile.WriteAllText(path, list.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    /// <summary>
    /// Samples from a generations file: entry i belongs to problem i. A program that does not start with its problem's
    /// prompt (or, for infilling, end with its suffix) cannot be split into a completion and is an error naming the task.
    /// </summary>
    public static IReadOnlyList<Sample> LoadGenerations(string path, IReadOnlyList<Problem> problems)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"generations file not found: {path}", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
        if (root is not JsonArray outer || outer.Any(e => e is not JsonArray))
            throw new InvalidDataException($"{path}: expected a JSON list with one list of generations per problem, as bigcode-evaluation-harness writes");
        if (outer.Count != problems.Count)
            throw new InvalidDataException($"{path}: {outer.Count} problems' generations for {problems.Count} problems; select the same problems (--language, --limit) the generations were made for");
        var samples = new List<Sample>();
        for (var i = 0; i < problems.Count; i++)
        {
            var p = problems[i];
            var suffix = p.Infill?.Suffix ?? "";
            foreach (var node in (JsonArray)outer[i]!)
            {
                var program = node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>()
                    : throw new InvalidDataException($"{path}: problem {i} ({p.TaskId}): a generation that is not a string");
                if (!program.StartsWith(p.Prompt, StringComparison.Ordinal) || !program.EndsWith(suffix, StringComparison.Ordinal) || program.Length < p.Prompt.Length + suffix.Length)
                    throw new InvalidDataException($"{path}: problem {i} ({p.TaskId}): the generation does not start with the problem's prompt{(suffix.Length > 0 ? " and end with its suffix" : "")}; " +
                        "keep the prompt in each generation, as bigcode-evaluation-harness does");
                samples.Add(new Sample(p.TaskId, program[p.Prompt.Length..^suffix.Length]));
            }
        }
        return samples;
    }

    /// <summary>metrics.json: each suite's pass@k over all its languages, under the suite's task name.</summary>
    public static void WriteMetrics(string path, IReadOnlyDictionary<string, EvalSummary> suites, IReadOnlyDictionary<string, object?> config)
    {
        var root = new JsonObject();
        foreach (var (task, summary) in suites)
        {
            var row = summary.Languages.FirstOrDefault(l => l.Language == "all") ?? summary.Languages.FirstOrDefault();
            var metrics = new JsonObject();
            foreach (var (k, v) in row?.PassAtK ?? new Dictionary<string, double>()) metrics[k] = v;
            root[task] = metrics;
        }
        root["config"] = JsonSerializer.SerializeToNode(config);
        AtomicFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The harness's name for a suite where it has one ("humaneval" for HumanEval's Python generation), else
    /// "task-language" (e.g. "generate-cpp", "translate-python-cpp", "infill-single-python").
    /// </summary>
    public static string TaskName(string suite, IReadOnlyList<Problem> problems) =>
        suite == "generate" && problems.All(p => p.TaskId.StartsWith("HumanEval/", StringComparison.Ordinal)) ? "humaneval" : suite;
}
