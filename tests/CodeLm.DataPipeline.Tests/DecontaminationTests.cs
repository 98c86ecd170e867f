using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Decontamination;
using CodeLm.Tests;

namespace CodeLm.DataPipeline.Tests;

/// <summary>
/// HumanEval solutions planted in a clone of a real repository (requests), verbatim and disguised, must leave the corpus
/// when it is decontaminated against HumanEval, and nothing else may.
/// </summary>
public sealed class DecontaminationTests
{
    private static readonly Dictionary<string, JsonElement> HumanEval = ReadProblems();

    private static Dictionary<string, JsonElement> ReadProblems()
    {
        using var gz = new GZipStream(File.OpenRead(TestPaths.HumanEval), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                     .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToDictionary(e => e.GetProperty("task_id").GetString()!);
    }

    private static string Program(string id) => HumanEval[id].GetProperty("prompt").GetString() + HumanEval[id].GetProperty("canonical_solution").GetString();

    /// <summary>A working clone of requests with four planted problems; returns it and the planted paths.</summary>
    private static (string Repo, string[] Planted) PlantedRequests(TempDir tmp)
    {
        var repo = tmp.File("requests");
        GitFixture.Git(tmp.Path, "clone", "-q", TestPaths.SharedCorpus("requests"), repo);
        // Verbatim, at the end of a real module.
        File.AppendAllText(Path.Combine(repo, "src/requests/help.py"), "\n\n" + Program("HumanEval/0"));
        // Reformatted: two-space indentation, no blank lines.
        var reformatted = string.Join('\n', Program("HumanEval/10").Split('\n').Where(l => l.Trim().Length > 0)
            .Select(l => Regex.Replace(l, "^( {4})+", m => new string(' ', m.Length / 2))));
        File.WriteAllText(Path.Combine(repo, "src/requests/palindromes.py"), reformatted + "\n");
        // Renamed: the function and its parameter, everywhere (the docstring's examples too).
        var renamed = Program("HumanEval/20").Replace("find_closest_elements", "nearest_pair").Replace("numbers", "values");
        File.WriteAllText(Path.Combine(repo, "src/requests/nearest.py"), "# Utilities for pairs.\nimport math\n\n" + renamed);
        // Extra whitespace: spaces doubled, trailing tabs.
        var spaced = string.Join('\n', Program("HumanEval/30").Split('\n').Select(l => l.Replace(" ", "  ") + "\t"));
        File.WriteAllText(Path.Combine(repo, "tests/test_positive.py"), spaced);
        GitFixture.Git(repo, "add", "-A");
        GitFixture.Git(repo, "-c", "user.name=t", "-c", "user.email=t@invalid", "commit", "-q", "-m", "plant");
        return (repo, ["src/requests/help.py", "src/requests/palindromes.py", "src/requests/nearest.py", "tests/test_positive.py"]);
    }

    private static CorpusBuildOptions Options(TempDir tmp, string repo, string outDir, DecontaminationOptions? d) =>
        new() { Sources = [new RepoSource(repo)], CacheDir = tmp.File("cache"), OutDir = tmp.File(outDir), Parallelism = 2, Decontamination = d };

    [Fact]
    public async Task Planted_copies_leave_the_corpus_and_nothing_else_does()
    {
        using var tmp = new TempDir();
        var (repo, planted) = PlantedRequests(tmp);
        var humanEval = Benchmark.Load(TestPaths.HumanEval);
        var plain = await CorpusBuilder.BuildAsync(Options(tmp, repo, "plain", null));
        var clean = await CorpusBuilder.BuildAsync(Options(tmp, repo, "clean", new DecontaminationOptions { Benchmarks = [humanEval] }));

        var before = await Paths(tmp.File("plain"));
        var after = await Paths(tmp.File("clean"));
        Assert.Subset(before.ToHashSet(), planted.ToHashSet());
        Assert.Equal(before.Except(planted).Order(), after.Order());

        var record = Assert.Single(clean.Decontamination!.Benchmarks);
        Assert.Equal(("HumanEval", 164, 4L), (record.Name, record.Problems, record.DroppedFiles));
        Assert.Equal(4, clean.Dropped["benchmark-contamination"].Files);
        Assert.Null(plain.Decontamination);
        // The manifest carries the record, with the file's hash, for the eval's contamination check.
        var manifest = CorpusManifest.Load(tmp.File("clean"));
        Assert.Equal(humanEval.Sha256, Assert.Single(manifest.Decontamination!.Benchmarks).Sha256);
        Assert.Equal(64, humanEval.Sha256.Length);
    }

    [Fact]
    public async Task Substrings_alone_miss_the_renamed_copy_that_ngrams_catch()
    {
        using var tmp = new TempDir();
        var (repo, planted) = PlantedRequests(tmp);
        var substringsOnly = new DecontaminationOptions { Benchmarks = [Benchmark.Load(TestPaths.HumanEval)], NGram = 0 };
        var stats = await CorpusBuilder.BuildAsync(Options(tmp, repo, "out", substringsOnly));
        Assert.Equal(3, stats.Decontamination!.Benchmarks[0].DroppedFiles);
        Assert.Contains("src/requests/nearest.py", await Paths(tmp.File("out")));
    }

    [Fact]
    public void The_matcher_names_the_problem_and_how_it_was_found()
    {
        var matcher = new BenchmarkMatcher(new DecontaminationOptions { Benchmarks = [Benchmark.Load(TestPaths.HumanEval)] });
        Assert.Equal(new BenchmarkMatch(0, "HumanEval/0", MatchKind.Substring), matcher.Find("x = 1\n" + Program("HumanEval/0")));
        var renamed = Program("HumanEval/20").Replace("find_closest_elements", "f").Replace("numbers", "xs");
        Assert.Equal(new BenchmarkMatch(0, "HumanEval/20", MatchKind.NGram), matcher.Find(renamed));
        Assert.Null(matcher.Find("def add(a, b):\n    return a + b\n"));
    }

    [Fact]
    public void A_benchmark_line_without_prompt_or_solution_is_named_by_file_and_line()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("b.jsonl"), "{\"task_id\": \"a\", \"prompt\": \"def f():\", \"solution\": \"  return 1\"}\n{\"task_id\": \"b\", \"text\": \"x\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => Benchmark.Load(tmp.File("b.jsonl")));
        Assert.Equal($"{tmp.File("b.jsonl")}:2: no prompt or solution field (expected prompt, and canonical_solution, solution, completion or code)", e.Message);
        Assert.Throws<FileNotFoundException>(() => Benchmark.LoadAll([tmp.File("missing.jsonl")]));
    }

    [Fact]
    public void A_directory_stands_for_its_benchmark_files()
    {
        var all = Benchmark.LoadAll([Path.Combine(TestPaths.Shared, "benchmarks", "humaneval-x")]);
        Assert.Equal(["humaneval-x/cpp", "humaneval-x/go", "humaneval-x/java", "humaneval-x/js", "humaneval-x/python", "humaneval-x/rust"], all.Select(b => b.Name));
        Assert.All(all, b => Assert.Equal(164, b.Problems.Count));
    }

    private static async Task<List<string>> Paths(string corpus)
    {
        var paths = new List<string>();
        foreach (var f in new[] { CorpusFiles.Train, CorpusFiles.Validation })
            await foreach (var r in CorpusFiles.ReadAsync(Path.Combine(corpus, f))) paths.Add(r.Path);
        return paths;
    }
}
