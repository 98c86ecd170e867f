using System.Text.Json;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Decontamination;
using CodeLm.DataPipeline.Distributed;
using CodeLm.Tests;

namespace CodeLm.DataPipeline.Tests;

/// <summary>
/// Parquet datasets as sources beside a git repository: The Stack's layout and CodeLm's, written by parquetjs (a
/// Parquet implementation independent of Parquet.Net), through the same filters, dedup and decontamination.
/// </summary>
public sealed class ParquetSourceTests
{
    private const string Function = "def scale(values, factor):\n    \"\"\"Multiply every value by the factor.\"\"\"\n    return [v * factor for v in values]\n";

    /// <summary>Writes rows with tests/node-ref/write-parquet.js; returns the file.</summary>
    private static string WriteParquet(TempDir tmp, string layout, object[] rows)
    {
        var json = tmp.File(layout + ".json");
        File.WriteAllText(json, JsonSerializer.Serialize(rows));
        var output = tmp.File(layout + ".parquet");
        var r = Proc.Run("node", [Path.Combine(TestPaths.RepoRoot, "tests", "node-ref", "write-parquet.js"), layout, json, output]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return output;
    }

    private static object StackRow(string repo, string path, string lang, string content, params string[] licenses) =>
        new Dictionary<string, object> { ["content"] = content, ["lang"] = lang, ["max_stars_repo_path"] = path, ["max_stars_repo_name"] = repo,
                                         ["max_stars_repo_licenses"] = licenses, ["size"] = content.Length };

    private static string HumanEvalProgram()
    {
        var b = Benchmark.Load(TestPaths.HumanEval);
        return b.Problems[12].Prompt + b.Problems[12].Solution;
    }

    private static object[] StackRows() =>
    [
        StackRow("alice/tools", "src/scale.py", "Python", Function, "MIT", "Apache-2.0"),
        StackRow("bob/copy", "lib/scale.py", "Python", Function, "MIT"),                          // an exact duplicate of alice's
        StackRow("carol/leak", "solutions/longest.py", "Python", HumanEvalProgram(), "MIT"),       // a benchmark solution
        StackRow("dave/min", "dist/app.js", "JavaScript", "var a=" + new string('1', 1200) + ";\n"), // one line over 1000 characters, no license
        StackRow("erin/go", "main.go", "Go", "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello from erin\")\n}\n", "BSD-3-Clause"),
    ];

    private static CorpusBuildOptions Options(TempDir tmp, string outDir, params string[] sources) => new()
    {
        Sources = [.. sources.Select(s => new RepoSource(s))], CacheDir = tmp.File("cache"), OutDir = tmp.File(outDir), Parallelism = 2,
        Decontamination = new DecontaminationOptions { Benchmarks = [Benchmark.Load(TestPaths.HumanEval)] },
    };

    private static async Task<List<CorpusRecord>> Rows(string corpus)
    {
        var rows = new List<CorpusRecord>();
        foreach (var f in new[] { CorpusFiles.Train, CorpusFiles.Validation })
            await foreach (var r in CorpusFiles.ReadAsync(Path.Combine(corpus, f))) rows.Add(r);
        return rows;
    }

    [Fact]
    public async Task The_Stack_rows_go_through_every_filter_and_keep_their_repository_and_license()
    {
        using var tmp = new TempDir();
        var stack = WriteParquet(tmp, "stack", StackRows());
        var stats = await CorpusBuilder.BuildAsync(Options(tmp, "out", stack, TestPaths.SharedCorpus("cobra")));

        var rows = (await Rows(tmp.File("out"))).Where(r => !r.Repo.StartsWith("cobra")).OrderBy(r => r.Repo, StringComparer.Ordinal).ToList();
        Assert.Equal(["alice/tools", "erin/go"], rows.Select(r => r.Repo));
        Assert.Equal(("src/scale.py", "Python", "MIT OR Apache-2.0", Function), (rows[0].Path, rows[0].Language, rows[0].License, rows[0].Content));
        Assert.Equal(("Go", "BSD-3-Clause"), (rows[1].Language, rows[1].License));
        Assert.StartsWith("sha256:", rows[0].Sha);
        Assert.Equal(1, stats.Duplicates.ExactFiles);
        Assert.Equal(1, stats.Decontamination!.Benchmarks[0].DroppedFiles);
        Assert.Equal(1, stats.Dropped["long-line"].Files);
        var manifest = CorpusManifest.Load(tmp.File("out"));
        Assert.Equal((DatasetLayout.TheStack, CrawledRepo.PerRowLicense, "stack"), (manifest.Repos[0].Dataset!.Value, manifest.Repos[0].License, manifest.Repos[0].Name));
        Assert.Null(manifest.Repos[1].Dataset);
    }

    [Fact]
    public async Task A_CodeLm_layout_dataset_and_a_staged_build_give_the_same_rows()
    {
        using var tmp = new TempDir();
        var codelm = WriteParquet(tmp, "codelm",
        [
            new Dictionary<string, string> { ["repo"] = "frank/util", ["path"] = "util.py", ["language"] = "Python", ["license"] = "MIT", ["sha"] = "x", ["content"] = Function },
            new Dictionary<string, string> { ["repo"] = "gina/web", ["path"] = "index.js", ["language"] = "JavaScript", ["license"] = "ISC", ["sha"] = "y",
                                             ["content"] = "export function greet(name) {\n  return `hello ${name}`;\n}\n" },
        ]);
        var o = Options(tmp, "one", codelm, WriteParquet(tmp, "stack", StackRows()));
        await CorpusBuilder.BuildAsync(o);
        var rows = await Rows(tmp.File("one"));
        Assert.Contains(rows, r => (r.Repo, r.Path, r.License) == ("gina/web", "index.js", "ISC"));
        // alice's copy of frank's function is an exact duplicate across the two datasets: the first in order stays.
        Assert.Single(rows, r => r.Content == Function);

        // The same sources as a staged build of two ranks, every stage run here in turn.
        var staged = o with { OutDir = tmp.File("staged") };
        foreach (var stage in Enum.GetValues<DataStage>())
            for (int rank = 0; rank < stage.Ranks(2, staged.Dedup.Bands); rank++)
                await StagedCorpusBuild.RunAsync(staged, stage, rank, 2, tmp.File("work"));
        foreach (var f in new[] { CorpusFiles.Train, CorpusFiles.Validation, CorpusStats.FileName, CorpusManifest.FileName })
            Assert.Equal(File.ReadAllBytes(Path.Combine(o.OutDir, f)), File.ReadAllBytes(Path.Combine(staged.OutDir, f)));
    }

    [Fact]
    public async Task A_parquet_file_of_another_layout_or_truncated_is_a_failed_source_that_says_why()
    {
        using var tmp = new TempDir();
        var other = WriteParquet(tmp, "other", [new Dictionary<string, string> { ["text"] = "x = 1\n", ["name"] = "a.py" }]);
        var e = await Assert.ThrowsAsync<SourceFailuresException>(() => CorpusBuilder.BuildAsync(Options(tmp, "out", other)));
        Assert.Contains("other: neither The Stack's columns (content, lang, max_stars_repo_path, max_stars_repo_name, max_stars_repo_licenses) nor CodeLm's", e.Message);

        var truncated = tmp.File("truncated.parquet");
        File.WriteAllBytes(truncated, File.ReadAllBytes(other)[..^40]);
        e = await Assert.ThrowsAsync<SourceFailuresException>(() => CorpusBuilder.BuildAsync(Options(tmp, "out", truncated)));
        Assert.Contains("truncated: not a readable Parquet file", e.Message);
        Assert.False(Directory.Exists(tmp.File("out")));
    }
}
