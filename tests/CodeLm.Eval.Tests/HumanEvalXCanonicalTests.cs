using CodeLm.Eval.Languages;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Tests;
using Xunit.Abstractions;

namespace CodeLm.Eval.Tests;

/// <summary>
/// HumanEval-X's own canonical solutions, all 164 per language, must pass here as they do under the benchmark's harness:
/// a failure is the harness's fault (a missing library, a wrong assembly of prompt and test), never the solution's.
/// </summary>
[Collection(ExecutorCollection.Name)]
public sealed class HumanEvalXCanonicalTests(ExecutorFixture fixture, ITestOutputHelper output)
{
    public static TheoryData<string> Files => new() { "python", "cpp", "java", "js", "go", "rust" };

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Every_canonical_solution_passes(string file)
    {
        var problems = ProblemSet.Load(Path.Combine(TestPaths.Shared, "benchmarks", "humaneval-x", file + ".jsonl.gz"));
        Assert.Equal(164, problems.Count);
        var language = Assert.Single(problems.Select(p => p.Language).Distinct());
        Assert.True(fixture.Executor.IsAvailable(language), $"{language}: {fixture.Executor.Toolchains[language].Detail}");
        using var dir = new TempDir();
        var summary = await Score(problems, dir.File("all"));
        // A few canonical solutions depend on the runtime's random map order (Go/95 iterates a map and fails about one run
        // in ten, under HumanEval-X's own harness too): a failure is retried twice, and only one that fails all three
        // times is the harness's fault.
        var failed = Failures(dir.File("all")).ToList();
        for (var attempt = 1; attempt <= 2 && failed.Count > 0; attempt++)
        {
            output.WriteLine($"retry {attempt}: {string.Join(", ", failed.Select(r => r.TaskId))}");
            var retry = problems.Where(p => failed.Any(f => f.TaskId == p.TaskId)).ToList();
            await Score(retry, dir.File($"retry-{attempt}"));
            failed = Failures(dir.File($"retry-{attempt}")).ToList();
        }
        foreach (var r in failed) output.WriteLine($"{r.TaskId}: {r.Samples[0].Status} {r.Samples[0].Stderr}");
        Assert.Empty(failed.Select(r => r.TaskId));
        Assert.Equal(164, summary.Languages.Single(l => l.Language == language).Problems);
    }

    private Task<EvalSummary> Score(IReadOnlyList<Problem> problems, string outDir) =>
        EvalScorer.ScoreAsync(fixture.Executor, problems, problems.Select(p => new Sample(p.TaskId, p.CanonicalSolution)).ToList(),
            new ScoreOptions(outDir, [1], Environment.ProcessorCount) { Timeout = TimeSpan.FromSeconds(20) });

    private static IEnumerable<ProblemResult> Failures(string outDir) =>
        ResultsFile.Load(Path.Combine(outDir, "results.jsonl")).Values.Where(r => r.Samples[0].Status != "passed");
}

public sealed class GoImportsTests
{
    [Fact]
    public void Imports_follow_use_outside_comments_and_strings_and_unknown_imports_are_kept()
    {
        var code = "import (\n    \"math\"\n    \"os/exec\"\n)\n\n// strings.Split is not used here\nfunc F(x float64) string {\n" +
                   "    s := \"fmt.Sprint\"\n    _ = exec.Command\n    return s + strconv.Itoa(int(x))\n}\n\nfunc TestF(t *testing.T) {\n    assert.Equal(t, \"\", F(1))\n}\n";
        var program = GoImports.Assemble(code);
        Assert.StartsWith("package main\n\nimport (\n\t\"github.com/stretchr/testify/assert\"\n\t\"os/exec\"\n\t\"strconv\"\n\t\"testing\"\n)\n", program);
        Assert.DoesNotContain("\"math\"", program);
        Assert.DoesNotContain("\"fmt\"", program);
        Assert.DoesNotContain("\"strings\"", program);
        Assert.Contains("func F(x float64) string {", program);
    }

    [Fact]
    public void A_package_clause_in_the_prompt_is_replaced_not_doubled()
    {
        var program = GoImports.Assemble("package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n");
        Assert.Single(program.Split('\n'), l => l.StartsWith("package "));
        Assert.Contains("\t\"testing\"\n", program);
    }
}
