using System.Text.Json;
using CodeLm.Common;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Model;
using CodeLm.Tests;
using CodeLm.Tokenizer.Training;
using CodeLm.Tokenizer;

namespace CodeLm.Eval.Tests;

public sealed class CliTests
{
    [Fact]
    public void Eval_score_scores_a_samples_file_prints_the_table_and_writes_summary_json()
    {
        using var dir = new TempDir();
        var samples = dir.File("samples.jsonl");
        File.WriteAllLines(samples, [
            JsonSerializer.Serialize(new { task_id = "Python/0", completion = "    return sum(n * n for n in numbers if n % 2 == 0)\n" }),
            JsonSerializer.Serialize(new { task_id = "Python/0", completion = "    return 0\n" }),
            JsonSerializer.Serialize(new { task_id = "JavaScript/2", completion = "  return text;\n};\n" }),
            JsonSerializer.Serialize(new { task_id = "JavaScript/2", completion = "  while (true) {}\n};\n" }),
        ]);
        var r = CodeLmCli.Run(["eval", "score", "--problems", "builtin", "--samples", samples, "--out", dir.File("out"), "--k", "1,2,5", "--timeout", "2"], null);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("toolchain Python: available", r.Stderr);
        Assert.Contains("sandbox: network", r.Stderr);
        Assert.Contains("pass@1", r.Stdout);
        Assert.Contains("pass@5 omitted", r.Stdout);
        var summary = EvalSummary.Load(dir.File("out/summary.json"));
        Assert.Equal(0.5, summary.Languages.Single(l => l.Language == "Python").PassAtK["pass@1"]);
        Assert.Equal(1.0, summary.Languages.Single(l => l.Language == "Python").PassAtK["pass@2"]);
        var js = ResultsFile.Load(dir.File("out/results.jsonl"))["JavaScript/2"];
        Assert.Equal(["failed", "timed_out"], js.Samples.Select(s => s.Status));
    }

    [Fact]
    public void Eval_run_generates_with_a_checkpoint_executes_scores_and_resumes()
    {
        using var dir = new TempDir();
        var builtin = ProblemSet.LoadBuiltin();
        BpeTrainer.Train(builtin.Select(p => LanguageTag.Prefix(p.Language) + p.Prompt + p.CanonicalSolution).ToList(),
            new BpeTrainerOptions(VocabSize: 400, MinFrequency: 1)).Save(dir.File("tok"));
        RandomCheckpoint.Create(dir.File("ckpt"), CodeTokenizer.Load(dir.File("tok")), seed: 3);
        string[] args = ["eval", "run", "--checkpoint", dir.File("ckpt"), "--problems", "builtin", "--language", "Python", "--n", "2",
            "--temperature", "0.8", "--max-new-tokens", "8", "--k", "1,2", "--device", "cpu", "--timeout", "2", "--out", dir.File("run")];
        var r = CodeLmCli.Run(args, null);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(6, File.ReadAllLines(dir.File("run/samples.jsonl")).Length);
        Assert.Equal(3, ResultsFile.Load(dir.File("run/results.jsonl")).Count);
        Assert.Contains("pass@2", r.Stdout);
        Assert.Equal(3, EvalSummary.Load(dir.File("run/summary.json")).Languages.Single().Problems);
        // Two k reported: the pass@k curve is drawn beside the summary.
        Assert.Contains("plot: ", r.Stdout);
        Assert.Equal([137, 80, 78, 71], File.ReadAllBytes(dir.File("run/pass_at_k.png"))[..4]);

        var firstSamples = File.ReadAllText(dir.File("run/samples.jsonl"));
        var again = CodeLmCli.Run(args, null);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("3 problems resumed", again.Stderr);
        Assert.Equal(firstSamples, File.ReadAllText(dir.File("run/samples.jsonl")));

        // Generation and execution apart, through bigcode-evaluation-harness's generations file: the same samples, the same score.
        var genOnly = CodeLmCli.Run([.. args[..^1], dir.File("gen"), "--generations-only"], null);
        Assert.True(genOnly.ExitCode == 0, genOnly.Stderr);
        Assert.False(File.Exists(dir.File("gen/results.jsonl")));
        var scored = CodeLmCli.Run(["eval", "score", "--problems", "builtin", "--language", "Python", "--load-generations", dir.File("gen/generations.json"),
            "--k", "1,2", "--timeout", "2", "--out", dir.File("gen")], null);
        Assert.True(scored.ExitCode == 0, scored.Stderr);
        Assert.Equal(EvalSummary.Load(dir.File("run/summary.json")).Languages.Single().PassAtK, EvalSummary.Load(dir.File("gen/summary.json")).Languages.Single().PassAtK);
        using var metrics = JsonDocument.Parse(File.ReadAllText(dir.File("run/metrics.json")));
        Assert.Equal(EvalSummary.Load(dir.File("run/summary.json")).Languages.Single().PassAtK["pass@1"], metrics.RootElement.GetProperty("generate").GetProperty("pass@1").GetDouble());
        Assert.Equal(2, metrics.RootElement.GetProperty("config").GetProperty("n_samples").GetInt32());

        // codelm translate: the same prompt layout for a user's file, written atomically where asked.
        File.WriteAllText(dir.File("add.py"), "def add(a, b):\n    return a + b\n");
        var translated = CodeLmCli.Run(["translate", dir.File("add.py"), "--to", "cpp", "--checkpoint", dir.File("ckpt"), "--device", "cpu",
            "--max-new-tokens", "8", "-o", dir.File("add.cpp")], null);
        Assert.True(translated.ExitCode == 0, translated.Stderr);
        Assert.Contains("Python → C++", translated.Stderr);
        Assert.True(File.Exists(dir.File("add.cpp")));
        var unknown = CodeLmCli.Run(["translate", dir.File("add.py"), "--to", "cobol", "--checkpoint", dir.File("ckpt")], null);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--to: 'cobol'", unknown.Stderr);
    }

    [Fact]
    public void Eval_score_runs_translation_per_language_pair_and_infilling_from_canonical_answers()
    {
        using var dir = new TempDir();
        var hx = Path.Combine(TestPaths.Shared, "benchmarks", "humaneval-x");
        var r = CodeLmCli.Run(["eval", "score", "--task", "translate", "--problems", hx, "--from", "python", "--to", "cpp,js", "--canonical",
            "--limit", "4", "--out", dir.File("tr")], null);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("translate-python-cpp: pass@k", r.Stdout);
        Assert.Equal(1.0, EvalSummary.Load(dir.File("tr/python-cpp/summary.json")).Languages.Single().PassAtK["pass@1"]);
        Assert.Equal(4, EvalSummary.Load(dir.File("tr/python-js/summary.json")).Languages.Single().Problems);
        using (var metrics = JsonDocument.Parse(File.ReadAllText(dir.File("tr/metrics.json"))))
            Assert.Equal(1.0, metrics.RootElement.GetProperty("translate-python-js").GetProperty("pass@1").GetDouble());

        var infill = CodeLmCli.Run(["eval", "score", "--task", "infill-multi", "--problems", "builtin", "--language", "JavaScript", "--canonical", "--out", dir.File("in")], null);
        Assert.True(infill.ExitCode == 0, infill.Stderr);
        Assert.Equal(1.0, EvalSummary.Load(dir.File("in/summary.json")).Languages.Single().PassAtK["pass@1"]);

        var noPair = CodeLmCli.Run(["eval", "score", "--task", "translate", "--problems", hx, "--from", "python", "--canonical"], null);
        Assert.Equal(1, noPair.ExitCode);
        Assert.Contains("--to", noPair.Stderr);
        var badTask = CodeLmCli.Run(["eval", "score", "--task", "summarize", "--problems", "builtin", "--canonical"], null);
        Assert.Contains("--task: 'summarize' is not a task", badTask.Stderr);
    }

    [Fact]
    public void A_problem_line_with_a_missing_field_is_named_and_skipped_and_the_rest_are_scored()
    {
        using var dir = new TempDir();
        var lines = ProblemSet.LoadBuiltin().Where(p => p.Language == EvalLanguages.Python)
            .Select(p => JsonSerializer.Serialize(new { task_id = p.TaskId, prompt = p.Prompt, canonical_solution = p.CanonicalSolution, test = p.Test, entry_point = p.EntryPoint }))
            .ToList();
        lines[1] = lines[1].Replace("\"test\":", "\"tests\":");
        File.WriteAllLines(dir.File("problems.jsonl"), lines);
        var r = CodeLmCli.Run(["eval", "score", "--problems", dir.File("problems.jsonl"), "--canonical", "--out", dir.File("out")], null);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("problems.jsonl:2: missing string field 'test'; that problem is skipped (fix or remove the line to score it)", r.Stderr);
        var summary = EvalSummary.Load(dir.File("out/summary.json"));
        Assert.Equal(2, summary.Languages.Single().Problems);
        Assert.Equal(1.0, summary.Languages.Single().PassAtK["pass@1"]);
    }

    [Fact]
    public void Bad_arguments_get_a_clear_error()
    {
        using var dir = new TempDir();
        var missing = CodeLmCli.Run(["eval", "score", "--problems", dir.File("nope.jsonl"), "--canonical"], null);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr);
        var neither = CodeLmCli.Run(["eval", "score", "--problems", "builtin"], null);
        Assert.Equal(1, neither.ExitCode);
        Assert.Contains("--samples", neither.Stderr);
        var badK = CodeLmCli.Run(["eval", "score", "--problems", "builtin", "--canonical", "--k", "0"], null);
        Assert.Contains("--k", badK.Stderr);
        var help = CodeLmCli.Run(["eval", "run", "--help"], null);
        Assert.Contains("--checkpoint", help.Stdout);
        Assert.Contains("--temperature", help.Stdout);
    }
}
