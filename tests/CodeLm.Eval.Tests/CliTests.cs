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

        var firstSamples = File.ReadAllText(dir.File("run/samples.jsonl"));
        var again = CodeLmCli.Run(args, null);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("3 problems resumed", again.Stderr);
        Assert.Equal(firstSamples, File.ReadAllText(dir.File("run/samples.jsonl")));
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
