using CodeLm.Common;
using CodeLm.Common.Completion;
using CodeLm.Eval.Generation;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Eval.Tasks;
using CodeLm.Tests;

namespace CodeLm.Eval.Tests;

[Collection(ExecutorCollection.Name)]
public sealed class EvalTaskTests(ExecutorFixture fixture)
{
    /// <summary>
    /// A model that knows every answer but does not stop: after the right middle it repeats the code that follows the
    /// hole and then rambles, as models do. Only the editor's shaping makes its answers pass.
    /// </summary>
    private sealed class OverrunningInfiller(IReadOnlyList<Problem> tasks) : ICompletionSource
    {
        public List<(string Prefix, string Suffix)> Calls { get; } = [];

        public IReadOnlyList<string> Complete(string prompt, int n, IReadOnlyList<string> stop, CancellationToken ct) => throw new NotSupportedException();

        public IReadOnlyList<string> Infill(string prefix, string suffix, int n, Func<string, bool> shouldStop, CancellationToken ct)
        {
            Calls.Add((prefix, suffix));
            var task = tasks.Single(t => prefix.EndsWith(t.Prompt, StringComparison.Ordinal) && t.Infill!.Suffix == suffix);
            var raw = task.CanonicalSolution + suffix + "\nprint('rambling')\n";
            // Stream it as the generator would, ending where the editor's rule says so.
            var text = "";
            foreach (var c in raw) { text += c; if (shouldStop(text)) break; }
            return Enumerable.Repeat(text, n).ToList();
        }
    }

    [Fact]
    public void Infilling_tasks_mask_each_line_or_span_and_reassemble_to_the_original()
    {
        var problem = ProblemSet.LoadBuiltin().First(p => p.Language == EvalLanguages.Python);
        var nonBlank = problem.CanonicalSolution.Split('\n').Count(l => l.Trim().Length > 0);
        var single = InfillTasks.Derive([problem], EvalTask.InfillSingle);
        var multi = InfillTasks.Derive([problem], EvalTask.InfillMulti);
        Assert.Equal(nonBlank, single.Count);
        Assert.Equal(nonBlank * (nonBlank - 1) / 2, multi.Count);
        Assert.All(single.Concat(multi), t => Assert.Equal(problem.Prompt + problem.CanonicalSolution, t.Prompt + t.CanonicalSolution + t.Infill!.Suffix));
        Assert.All(single, t => Assert.DoesNotContain('\n', t.CanonicalSolution));
        Assert.All(single, t => Assert.Equal(CompletionMode.Line, t.Infill!.Mode));
        Assert.All(multi, t => Assert.Equal(CompletionMode.Block, t.Infill!.Mode));
        Assert.Equal(single.Count + multi.Count, single.Concat(multi).Select(t => t.TaskId).Distinct().Count());
    }

    [Theory]
    [InlineData(EvalTask.InfillSingle)]
    [InlineData(EvalTask.InfillMulti)]
    public async Task Infilling_is_asked_and_shaped_as_the_editor_does_and_canonical_answers_pass(EvalTask task)
    {
        var problems = ProblemSet.LoadBuiltin().Where(p => p.Language is EvalLanguages.Python or EvalLanguages.JavaScript).ToList();
        var tasks = InfillTasks.Derive(problems, task);
        using var dir = new TempDir();
        var canonical = await EvalScorer.ScoreAsync(fixture.Executor, tasks, tasks.Select(t => new Sample(t.TaskId, t.CanonicalSolution)).ToList(),
            new ScoreOptions(dir.File("canonical"), [1], 2));
        Assert.Equal(1.0, canonical.Languages.Single(l => l.Language == "all").PassAtK["pass@1"]);

        var source = new OverrunningInfiller(tasks);
        var samples = SampleGenerator.Generate(source, tasks, 1, dir.File("samples.jsonl"));
        Assert.All(source.Calls, c => Assert.True(c.Prefix.StartsWith(LanguageTag.Prefix(EvalLanguages.Python), StringComparison.Ordinal) ||
                                                  c.Prefix.StartsWith(LanguageTag.Prefix(EvalLanguages.JavaScript), StringComparison.Ordinal)));
        var shaped = (await EvalScorer.ScoreAsync(fixture.Executor, tasks, [.. samples], new ScoreOptions(dir.File("shaped"), [1], 2)))
            .Languages.Single(l => l.Language == "all").PassAtK["pass@1"];
        // The editor never shows a single line of fewer than two visible characters (a lone "}"), so neither does the
        // benchmark: exactly those single-line answers are lost. A block is cut where the editor cuts it, at the first
        // line indented less than its first, so spans that end in a dedent are shown short, as a user would see them.
        if (task == EvalTask.InfillSingle)
        {
            var results = ResultsFile.Load(dir.File("shaped/results.jsonl"));
            Assert.All(tasks, t => Assert.Equal(t.CanonicalSolution.Count(c => !char.IsWhiteSpace(c)) >= CompletionShaper.MinVisibleChars,
                results[t.TaskId].Samples[0].Status == "passed"));
        }
        Assert.InRange(shaped, 0.5, 1.0);

        var raw = File.ReadAllLines(dir.File("samples.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Select(e => new Sample(e.GetProperty("task_id").GetString()!, e.GetProperty("raw").GetString()!)).ToList();
        if (task == EvalTask.InfillSingle)
        {
            // Generation itself ended where the editor ends a line completion: at the first line break.
            Assert.All(raw, r => Assert.True(r.Completion.IndexOf('\n') is var nl && (nl < 0 || nl == r.Completion.Length - 1), r.Completion));
            return;
        }
        // Unshaped, the same blocks (the middle, the code after it again, the rambling) break more programs.
        var unshaped = await EvalScorer.ScoreAsync(fixture.Executor, tasks, raw, new ScoreOptions(dir.File("raw"), [1], 2));
        Assert.True(unshaped.Languages.Single(l => l.Language == "all").PassAtK["pass@1"] < shaped);
    }

    [Fact]
    public async Task Translation_pairs_problems_by_number_shows_the_source_solution_and_is_judged_by_the_target_tests()
    {
        var dir = Path.Combine(TestPaths.Shared, "benchmarks", "humaneval-x");
        var python = ProblemSet.Load(Path.Combine(dir, "python.jsonl.gz"));
        var cpp = ProblemSet.Load(Path.Combine(dir, "cpp.jsonl.gz")).Take(10).ToList();
        var tasks = TranslationTasks.Pair(python, cpp);
        Assert.Equal(10, tasks.Count);
        foreach (var t in tasks)
        {
            var number = t.TaskId.Split('/')[1];
            var src = python.Single(p => p.TaskId == "Python/" + number);
            Assert.Equal(t.Declaration, t.Prompt);
            Assert.StartsWith(LanguageTag.Prefix(EvalLanguages.Python) + src.Declaration, t.ModelPrompt);
            Assert.Contains(src.CanonicalSolution.TrimEnd(), t.ModelPrompt);
            Assert.EndsWith(LanguageTag.Prefix(EvalLanguages.Cpp) + t.Declaration, t.ModelPrompt);
            Assert.Equal(t.ModelPrompt, SampleGenerator.BuildPrompt(t));
        }
        // HumanEval-X's Go declarations omit the helpers four prompts define; those targets keep the helpers, not the docstring.
        var go = ProblemSet.Load(Path.Combine(dir, "go.jsonl.gz")).Where(p => p.TaskId is "Go/10" or "Go/32" or "Go/38" or "Go/50" or "Go/0").ToList();
        var goTasks = TranslationTasks.Pair(python, go);
        Assert.Contains("func IsPalindrome(", goTasks.Single(t => t.TaskId == "Go/10").Prompt);
        Assert.DoesNotContain("// >>> MakePalindrome", goTasks.Single(t => t.TaskId == "Go/10").Prompt);
        Assert.Equal(go.Single(p => p.TaskId == "Go/0").Declaration, goTasks.Single(t => t.TaskId == "Go/0").Prompt);
        using var outDir = new TempDir();
        var all = tasks.Concat(goTasks).ToList();
        var summary = await EvalScorer.ScoreAsync(fixture.Executor, all, all.Select(t => new Sample(t.TaskId, t.CanonicalSolution)).ToList(),
            new ScoreOptions(outDir.Path, [1], 2));
        Assert.Equal(1.0, summary.Languages.Single(l => l.Language == EvalLanguages.Cpp).PassAtK["pass@1"]);
        Assert.Equal(1.0, summary.Languages.Single(l => l.Language == EvalLanguages.Go).PassAtK["pass@1"]);
    }

    [Fact]
    public void Generations_round_trip_through_the_bigcode_harness_format_and_a_mismatch_names_the_task()
    {
        var problems = ProblemSet.LoadBuiltin().Take(3).ToList();
        var infill = InfillTasks.Derive(problems.Where(p => p.Language == EvalLanguages.Python), EvalTask.InfillSingle).Take(2).ToList();
        using var dir = new TempDir();
        foreach (var set in new[] { problems, infill })
        {
            var samples = set.SelectMany(p => new[] { new Sample(p.TaskId, p.CanonicalSolution), new Sample(p.TaskId, "x") }).ToList();
            HarnessFiles.WriteGenerations(dir.File("g.json"), set, samples);
            var root = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("g.json"))).RootElement;
            Assert.Equal(set.Count, root.GetArrayLength());
            Assert.Equal(set[0].Prompt + set[0].CanonicalSolution + set[0].Infill?.Suffix, root[0][0].GetString());
            Assert.Equal(samples, HarnessFiles.LoadGenerations(dir.File("g.json"), set));
        }
        File.WriteAllText(dir.File("bad.json"), "[[\"def other():\\n    pass\\n\"], [], []]");
        var e = Assert.Throws<InvalidDataException>(() => HarnessFiles.LoadGenerations(dir.File("bad.json"), problems));
        Assert.Contains(problems[0].TaskId, e.Message);
        Assert.Contains("prompt", e.Message);
        File.WriteAllText(dir.File("short.json"), "[[]]");
        Assert.Contains("1 problems' generations for 3 problems", Assert.Throws<InvalidDataException>(() => HarnessFiles.LoadGenerations(dir.File("short.json"), problems)).Message);
    }
}
