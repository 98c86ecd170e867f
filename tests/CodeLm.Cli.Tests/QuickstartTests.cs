using System.Text.Json;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>The main job end to end through the real `codelm quickstart`, on this repository, with the smallest settings.</summary>
public class QuickstartTests
{
    [Fact]
    public void Quickstart_produces_every_artifact_and_a_rerun_reuses_them()
    {
        using var tmp = new TempDir();
        var work = tmp.File("qs");
        string[] args =
        [
            "quickstart", "--work-dir", work, "--source", TestPaths.RepoRoot, "--device", "cpu",
            "--vocab-size", "600", "--steps", "12", "--batch-size", "2", "--seq-len", "64",
            "--eval-samples", "1", "--eval-max-new-tokens", "24",
        ];
        var first = CodeLmCli.Run(args, cwd: tmp.Path);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);

        // Corpus, tokenizer, shards, checkpoint, samples, eval results, report.
        Assert.True(new FileInfo(Path.Combine(work, "corpus", "train.parquet")).Length > 0);
        Assert.True(File.Exists(Path.Combine(work, "corpus", "stats.json")));
        using (var tok = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "tokenizer", "tokenizer.json"))))
            Assert.Equal(600, tok.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().Count());
        foreach (var f in new[] { "train.bin", "train.idx", "validation.bin", "validation.idx", "manifest.json" })
            Assert.True(new FileInfo(Path.Combine(work, "shards", f)).Length > 0, f);
        Assert.StartsWith("MMIDIDX\0\0", File.ReadAllText(Path.Combine(work, "shards", "train.idx"))[..9]);
        var checkpoint = Path.Combine(work, "run", "best");
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer/tokenizer.json" })
            Assert.True(File.Exists(Path.Combine(checkpoint, f)), f);
        Assert.True(new FileInfo(Path.Combine(work, "run", "loss.png")).Length > 0);
        var results = File.ReadAllLines(Path.Combine(work, "eval", "results.jsonl"));
        Assert.True(results.Length >= 10, $"only {results.Length} eval results");
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(work, "eval", "summary.json"))))
            Assert.Contains(summary.RootElement.GetProperty("languages").EnumerateArray(), l => l.GetProperty("language").GetString() == "Python");

        var report = File.ReadAllText(Path.Combine(work, "report.md"));
        foreach (var section in new[] { "## Corpus", "## Training", "## Sample completions", "## Evaluation", "codelm serve --checkpoint" })
            Assert.Contains(section, report);
        Assert.Contains("## Corpus", first.Stdout);

        // A second run reuses every stage and reports them as such.
        var modelBytes = File.ReadAllBytes(Path.Combine(checkpoint, "model.safetensors"));
        var second = CodeLmCli.Run(args, cwd: tmp.Path);
        Assert.True(second.ExitCode == 0, second.Stderr);
        foreach (var stage in new[] { "corpus", "tokenizer", "shards", "train", "sample", "eval" })
            Assert.Matches($@"\| {stage} \| reused \|", second.Stdout);
        Assert.Equal(modelBytes, File.ReadAllBytes(Path.Combine(checkpoint, "model.safetensors")));
    }

    [Fact]
    public void Quickstart_outside_a_repository_says_how_to_give_a_source()
    {
        using var tmp = new TempDir();
        var r = CodeLmCli.Run(["quickstart", "--work-dir", tmp.File("qs"), "--device", "cpu"], cwd: tmp.Path);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--source", r.Stderr);
    }
}
