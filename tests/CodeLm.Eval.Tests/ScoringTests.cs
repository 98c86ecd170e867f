using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Tests;
using Xunit.Abstractions;

namespace CodeLm.Eval.Tests;

[Collection(ExecutorCollection.Name)]
public sealed class ScoringTests(ExecutorFixture fixture, ITestOutputHelper output)
{
    private static List<Sample> Canonical(IEnumerable<Problem> problems) => problems.Select(p => new Sample(p.TaskId, p.CanonicalSolution)).ToList();

    [Fact]
    public async Task HumanEval_canonical_solutions_all_pass_and_shifted_solutions_fail()
    {
        var problems = ProblemSet.Load(TestPaths.HumanEval);
        using var dir = new TempDir();
        var summary = await EvalScorer.ScoreAsync(fixture.Executor, problems, Canonical(problems), new ScoreOptions(dir.File("canonical"), [1], 2));
        var row = Assert.Single(summary.Languages);
        var results = ResultsFile.Load(dir.File("canonical/results.jsonl"));
        foreach (var bad in results.Values.Where(r => r.Passed != 1)) output.WriteLine($"{bad.TaskId}: {bad.Samples[0].Status} {bad.Samples[0].Stderr}");
        Assert.Equal(164, row.Problems);
        Assert.Equal(164, row.Statuses["passed"]);
        Assert.Equal(1.0, row.PassAtK["pass@1"]);

        // Every problem gets the next problem's solution: nearly nothing can pass.
        var shifted = problems.Select((p, i) => new Sample(p.TaskId, problems[(i + 1) % problems.Count].CanonicalSolution)).ToList();
        var wrong = await EvalScorer.ScoreAsync(fixture.Executor, problems, shifted, new ScoreOptions(dir.File("shifted"), [1], 2));
        var w = Assert.Single(wrong.Languages);
        output.WriteLine($"shifted pass@1 = {w.PassAtK["pass@1"]}");
        Assert.True(w.PassAtK["pass@1"] < 0.03, $"shifted pass@1 = {w.PassAtK["pass@1"]}");
        Assert.True(File.Exists(dir.File("shifted/summary.json")));
    }

    [Fact]
    public async Task Builtin_canonical_solutions_pass_in_every_available_language()
    {
        var problems = ProblemSet.LoadBuiltin();
        using var dir = new TempDir();
        var summary = await EvalScorer.ScoreAsync(fixture.Executor, problems, Canonical(problems), new ScoreOptions(dir.Path, [1], 2));
        output.WriteLine(summary.ToTable());
        foreach (var r in ResultsFile.Load(dir.File("results.jsonl")).Values.Where(r => r.Passed != r.N))
            output.WriteLine($"{r.TaskId}: {r.Samples[0].Status} {r.Samples[0].Stderr}");
        foreach (var lang in EvalLanguages.All)
        {
            var row = summary.Languages.Single(l => l.Language == lang);
            if (fixture.Executor.IsAvailable(lang))
                Assert.Equal(1.0, row.PassAtK["pass@1"]);
            else
            {
                Assert.Empty(row.PassAtK);
                Assert.StartsWith("unavailable", row.Note);
                Assert.Equal(row.Samples, row.Statuses["unavailable"]);
            }
        }
        Assert.Equal(1.0, summary.Languages.Single(l => l.Language == "all").PassAtK["pass@1"]);
    }

    [Fact]
    public async Task Wrong_and_broken_completions_fail_or_fail_to_compile_in_every_language()
    {
        var problems = ProblemSet.LoadBuiltin().Where(p => fixture.Executor.IsAvailable(p.Language)).ToList();
        // Within a language, problem i gets problem i+1's solution (it compiles in scripting languages, not in typed ones).
        var samples = problems.GroupBy(p => p.Language).SelectMany(g =>
        {
            var list = g.ToList();
            return list.Select((p, i) => new Sample(p.TaskId, list[(i + 1) % list.Count].CanonicalSolution));
        }).Concat(problems.Select(p => new Sample(p.TaskId, "this is not code {{{"))).ToList();
        using var dir = new TempDir();
        var summary = await EvalScorer.ScoreAsync(fixture.Executor, problems, samples, new ScoreOptions(dir.Path, [1, 2], 2));
        output.WriteLine(summary.ToTable());
        Assert.All(summary.Languages, row => Assert.Equal(0.0, row.PassAtK["pass@1"]));
        var results = ResultsFile.Load(dir.File("results.jsonl")).Values.ToList();
        foreach (var lang in new[] { EvalLanguages.Cpp, EvalLanguages.Java, EvalLanguages.CSharp }.Where(fixture.Executor.IsAvailable))
            Assert.All(results.Where(r => r.Language == lang), r => Assert.Equal("compile_error", r.Samples[1].Status));
        Assert.All(results.Where(r => r.Language == EvalLanguages.Python), r => Assert.Equal("failed", r.Samples[1].Status));
        Assert.All(results.SelectMany(r => r.Samples).Where(s => s.Status != "passed"), s => Assert.False(string.IsNullOrEmpty(s.Stderr)));
    }

    [Fact]
    public async Task A_rerun_resumes_finished_problems_and_redoes_only_changed_samples()
    {
        var problems = ProblemSet.LoadBuiltin().Where(p => p.Language == EvalLanguages.Python).ToList();
        using var dir = new TempDir();
        var samples = Canonical(problems);
        var options = new ScoreOptions(dir.Path, [1], 2);
        await EvalScorer.ScoreAsync(fixture.Executor, problems, samples, options);

        // Simulate a run killed mid-write: a torn last line is ignored, not fatal.
        File.AppendAllText(options.ResultsPath, "{\"task_id\":\"Python/1\",\"langu");
        var reports = new List<EvalProgress>();
        await EvalScorer.ScoreAsync(fixture.Executor, problems, samples, options, new SyncProgress<EvalProgress>(reports.Add));
        Assert.Equal(problems.Count, reports[0].ResumedProblems);
        Assert.Single(reports);

        samples[1] = samples[1] with { Completion = "    return False\n" };
        reports.Clear();
        var summary = await EvalScorer.ScoreAsync(fixture.Executor, problems, samples, options, new SyncProgress<EvalProgress>(reports.Add));
        Assert.Equal(problems.Count - 1, reports[0].ResumedProblems);
        Assert.Equal(2.0 / 3, summary.Languages[0].PassAtK["pass@1"], 12);
        Assert.Equal(problems.Count, File.ReadAllLines(options.ResultsPath).Length);
    }

    [Fact]
    public async Task A_toolchain_that_disappears_mid_run_makes_its_candidates_unavailable_and_a_rerun_executes_them()
    {
        // The tool must be visible inside the sandbox, which covers /tmp with its own tmpfs: a wrapper under /opt.
        var toolDir = Directory.CreateDirectory(Path.Combine("/opt", "codelm-test-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var wrapper = Path.Combine(toolDir, "python3");
            void Install()
            {
                File.WriteAllText(wrapper, "#!/bin/sh\nexec /usr/bin/python3 \"$@\"\n");
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
            }
            Install();
            var options = new ExecutorOptions(TimeSpan.FromSeconds(4)) { ToolPaths = new Dictionary<string, string> { ["python3"] = wrapper } };
            var problems = ProblemSet.LoadBuiltin().Where(p => p.Language is EvalLanguages.Python).ToList();
            using var dir = new TempDir();
            using (var executor = await CandidateExecutor.CreateAsync([EvalLanguages.Python], options))
            {
                Assert.True(executor.IsAvailable(EvalLanguages.Python), executor.Toolchains[EvalLanguages.Python].Detail);
                File.Delete(wrapper);
                var summary = await EvalScorer.ScoreAsync(executor, problems, Canonical(problems), new ScoreOptions(dir.Path, [1], 2));
                var row = summary.Languages.Single();
                Assert.Equal(3, row.Statuses["unavailable"]);
                Assert.Empty(row.PassAtK);
                Assert.Contains("disappeared during the run (fix: apt-get install python3", executor.Toolchains[EvalLanguages.Python].Detail);
            }
            Install();
            using (var executor = await CandidateExecutor.CreateAsync([EvalLanguages.Python], options))
            {
                var summary = await EvalScorer.ScoreAsync(executor, problems, Canonical(problems), new ScoreOptions(dir.Path, [1], 2));
                Assert.Equal(1.0, summary.Languages.Single().PassAtK["pass@1"]);
            }
        }
        finally
        {
            Directory.Delete(toolDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_language_without_its_toolchain_is_unavailable_not_failed_and_left_out_of_pass_at_k()
    {
        var options = new ExecutorOptions(TimeSpan.FromSeconds(4)) { ToolPaths = new Dictionary<string, string> { ["go"] = "/nonexistent/bin/go" } };
        using var executor = await CandidateExecutor.CreateAsync([EvalLanguages.Go, EvalLanguages.Python], options);
        Assert.False(executor.IsAvailable(EvalLanguages.Go));
        Assert.Contains("not installed: go (fix: apt-get install golang-go", executor.Toolchains[EvalLanguages.Go].Detail);
        var problems = ProblemSet.LoadBuiltin().Where(p => p.Language is EvalLanguages.Go or EvalLanguages.Python).ToList();
        using var dir = new TempDir();
        var summary = await EvalScorer.ScoreAsync(executor, problems, Canonical(problems), new ScoreOptions(dir.Path, [1], 2));
        var go = summary.Languages.Single(l => l.Language == EvalLanguages.Go);
        Assert.Empty(go.PassAtK);
        Assert.StartsWith("unavailable", go.Note);
        Assert.Equal(3, go.Statuses["unavailable"]);
        Assert.False(go.Statuses.ContainsKey("failed"));
        var all = summary.Languages.Single(l => l.Language == "all");
        Assert.Equal(3, all.Problems); // Python only
        Assert.Equal(1.0, all.PassAtK["pass@1"]);
    }

    [Fact]
    public async Task Samples_for_unknown_tasks_are_a_clear_error()
    {
        var problems = ProblemSet.LoadBuiltin();
        using var dir = new TempDir();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() =>
            EvalScorer.ScoreAsync(fixture.Executor, problems, [new Sample("HumanEval/0", "x")], new ScoreOptions(dir.Path, [1], 1)));
        Assert.Contains("HumanEval/0", e.Message);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
