using System.IO.Compression;
using CodeLm.Eval.Problems;
using CodeLm.Tests;

namespace CodeLm.Eval.Tests;

public sealed class ProblemSetTests
{
    [Fact]
    public void Loads_the_original_HumanEval_gzip_as_164_Python_problems()
    {
        var problems = ProblemSet.Load(TestPaths.HumanEval);
        Assert.Equal(164, problems.Count);
        Assert.All(problems, p => Assert.Equal(EvalLanguages.Python, p.Language));
        Assert.Equal("HumanEval/0", problems[0].TaskId);
        Assert.Equal("has_close_elements", problems[0].EntryPoint);
        Assert.Contains("def check(candidate)", problems[0].Test);
    }

    [Fact]
    public void Loads_plain_and_gzip_HumanEval_X_layout_taking_the_language_from_the_task_id()
    {
        using var dir = new TempDir();
        var lines = new[]
        {
            """{"task_id":"CPP/0","prompt":"int f(){","declaration":"int f(){","canonical_solution":"return 1;}","test":"int main(){}","example_test":""}""",
            """{"task_id":"Java/3","prompt":"class Solution {","canonical_solution":"}","test":"public class Main {}"}""",
            """{"task_id":"JavaScript/1","prompt":"const f = () => {","canonical_solution":"};","test":"f();"}""",
        };
        File.WriteAllLines(dir.File("x.jsonl"), lines);
        using (var gz = new GZipStream(File.Create(dir.File("x.jsonl.gz")), CompressionLevel.Fastest))
        using (var w = new StreamWriter(gz)) foreach (var l in lines) w.WriteLine(l);

        foreach (var file in new[] { "x.jsonl", "x.jsonl.gz" })
        {
            var problems = ProblemSet.Load(dir.File(file));
            Assert.Equal([EvalLanguages.Cpp, EvalLanguages.Java, EvalLanguages.JavaScript], problems.Select(p => p.Language));
            Assert.Equal("int f(){", problems[0].Declaration);
            Assert.Equal("", problems[0].ExampleTest);
        }
    }

    [Fact]
    public void Language_flag_names_the_language_of_ids_without_a_prefix()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.jsonl"), """{"task_id":"mine/0","prompt":"x","test":"y","entry_point":"f"}""" + "\n");
        var e = Assert.Throws<UnknownProblemLanguageException>(() => ProblemSet.Load(dir.File("p.jsonl")));
        Assert.Equal("mine/0", e.TaskId);
        Assert.Contains("--language", CodeLm.Cli.CliErrors.Describe(e));
        Assert.Equal(EvalLanguages.JavaScript, ProblemSet.Load(dir.File("p.jsonl"), "js")[0].Language);
        Assert.Throws<ArgumentException>(() => ProblemSet.Load(dir.File("p.jsonl"), "cobol"));
    }

    [Fact]
    public void Bad_input_gets_a_clear_error()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => ProblemSet.Load(dir.File("missing.jsonl")));
        File.WriteAllText(dir.File("bad.jsonl"), "{\"task_id\": \"HumanEval/0\", \"prompt\": \n");
        Assert.Contains("bad.jsonl:1", Assert.Throws<InvalidDataException>(() => ProblemSet.Load(dir.File("bad.jsonl"))).Message);
        File.WriteAllText(dir.File("nofield.jsonl"), """{"task_id":"HumanEval/0","prompt":"x"}""" + "\n");
        Assert.Contains("'test'", Assert.Throws<InvalidDataException>(() => ProblemSet.Load(dir.File("nofield.jsonl"))).Message);
        File.WriteAllBytes(dir.File("trunc.jsonl.gz"), File.ReadAllBytes(TestPaths.HumanEval)[..4000]);
        Assert.ThrowsAny<Exception>(() => ProblemSet.Load(dir.File("trunc.jsonl.gz")));
        File.WriteAllText(dir.File("empty.jsonl"), "\n");
        Assert.Contains("no problems", Assert.Throws<InvalidDataException>(() => ProblemSet.Load(dir.File("empty.jsonl"))).Message);
    }

    [Fact]
    public void Builtin_set_has_a_few_problems_per_language_each_with_a_canonical_solution()
    {
        var problems = ProblemSet.LoadBuiltin();
        foreach (var lang in EvalLanguages.All)
            Assert.True(problems.Count(p => p.Language == lang) >= 3, lang);
        Assert.All(problems, p => Assert.False(string.IsNullOrWhiteSpace(p.CanonicalSolution)));
        Assert.Equal(problems.Count, ProblemSet.Load("builtin").Count);
    }
}
