using System.Text.Json;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>
/// The decontamination record travels corpus → shards → checkpoint, and `codelm eval` reads it: a model whose corpus
/// kept HumanEval gets a warning above the table; one whose corpus had it removed is told so. Real commands throughout.
/// </summary>
public sealed class ContaminationWarningTests
{
    [Fact]
    public void Eval_warns_when_the_training_corpus_was_not_decontaminated_against_the_benchmark()
    {
        using var tmp = new TempDir();
        var kept = Train(tmp, "kept", []);
        var removed = Train(tmp, "removed", ["--decontaminate", TestPaths.HumanEval]);

        var warned = Eval(tmp, kept);
        var lines = warned.Stdout.Split('\n');
        int warning = Array.FindIndex(lines, l => l.StartsWith("WARNING: the training corpus was not decontaminated against HumanEval.jsonl.gz (nothing was removed)"));
        int table = Array.FindIndex(lines, l => l.Contains("pass@k"));
        Assert.True(warning >= 0 && warning < table, warned.Stdout);
        Assert.Contains($"--decontaminate {TestPaths.HumanEval}", lines[warning]);

        var told = Eval(tmp, removed);
        Assert.DoesNotContain("WARNING", told.Stdout);
        Assert.Contains("contamination: HumanEval.jsonl.gz was removed from the training corpus (0 files dropped)", told.Stdout);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.File("eval-" + Path.GetFileName(removed)), "metrics.json")));
        Assert.Equal("Removed", metrics.RootElement.GetProperty("config").GetProperty("contamination").GetProperty("HumanEval.jsonl.gz").GetString());
    }

    private static string Train(TempDir tmp, string name, string[] decontaminate)
    {
        var env = new Dictionary<string, string> { ["CODELM_NATIVE_DATA"] = "0" };
        Ok(CodeLmCli.Run(["data", "build", TestPaths.SharedCorpus("cobra"), "--cache", tmp.File("cache"), "--out", tmp.File(name + "-corpus"), .. decontaminate], null, env: env));
        Ok(CodeLmCli.Run("tokenizer", "train", "--corpus", tmp.File(name + "-corpus"), "--out", tmp.File(name + "-tok"), "--vocab-size", "300"));
        Ok(CodeLmCli.Run("data", "tokenize", "--corpus", tmp.File(name + "-corpus"), "--tokenizer", tmp.File(name + "-tok"), "--out", tmp.File(name + "-shards")));
        Ok(CodeLmCli.Run("train", "--data", tmp.File(name + "-shards"), "--config", "tiny", "--out", tmp.File(name), "--device", "cpu",
            "--max-steps", "2", "--warmup", "1", "--batch-size", "2", "--seq-len", "32", "--eval-interval", "2", "--eval-batches", "1"));
        return tmp.File(name);
    }

    private static Proc.Result Eval(TempDir tmp, string run) =>
        Ok(CodeLmCli.Run("eval", "run", "--checkpoint", run, "--problems", TestPaths.HumanEval, "--limit", "1", "-n", "1", "--temperature", "0",
            "--max-new-tokens", "4", "--k", "1", "--out", tmp.File("eval-" + Path.GetFileName(run))));

    private static Proc.Result Ok(Proc.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        return r;
    }
}
