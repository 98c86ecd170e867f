using System.IO.Compression;
using System.Text.Json;
using CodeLm.Common;
using CodeLm.DataPipeline.Clean;
using CodeLm.Eval.Generation;
using CodeLm.Eval.Languages;
using CodeLm.Eval.Problems;
using CodeLm.Tests;

namespace CodeLm.Eval.Tests;

/// <summary>The one language table, read by every stage; Rust's eval row is the "one row adds a language" example.</summary>
public sealed class LanguageTableTests
{
    [Fact]
    public void Every_runner_has_an_eval_row_with_stops_and_a_block_style()
    {
        Assert.Equal(7, LanguageRunner.All.Count);
        foreach (var name in EvalLanguages.All)
        {
            var row = LanguageTable.FromEvalName(name);
            Assert.NotNull(row);
            Assert.Equal(name, row.Name);
            Assert.NotEmpty(row.EvalStops);
            Assert.NotEqual(BlockStyle.Unknown, row.Blocks);
        }
        foreach (var constant in new[] { EvalLanguages.Python, EvalLanguages.CSharp, EvalLanguages.JavaScript, EvalLanguages.Cpp, EvalLanguages.Java, EvalLanguages.Go, EvalLanguages.Rust })
            Assert.Equal(constant, LanguageTable.Find(constant)?.Name);
    }

    [Fact]
    public void Names_extensions_and_editor_ids_each_name_one_language()
    {
        // The table's indexes refuse a key that names two rows; touching one builds them all.
        Assert.Equal("C#", LanguageTable.FromLspId("csharp"));
        Assert.Equal(LanguageTable.All.Count, LanguageTable.All.Select(l => l.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        var extensions = LanguageTable.All.SelectMany(l => l.Extensions).ToList();
        Assert.Equal(extensions.Count, extensions.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(extensions, e => Assert.StartsWith(".", e));
    }

    [Fact]
    public void Rust_is_one_row_and_every_stage_sees_it()
    {
        Assert.Equal("// language: Rust", LanguageTag.Line("Rust"));
        Assert.Equal("Rust", LanguageDetector.FromPath("src/main.rs"));
        Assert.Equal("Rust", LanguageTable.FromLspId("rust"));
        Assert.Equal("Rust", LanguageTable.FromEvalName("rs")?.Name);
        Assert.Equal("Rust", LanguageTable.FromEvalName(" RUST ")?.Name);
        Assert.Contains("\n}", StopSequences.For("Rust"));

        // The HumanEval-X Rust prompts end inside an open function; truncation closes it like any brace language.
        using var gz = new GZipStream(File.OpenRead(Path.Combine(TestPaths.Shared, "benchmarks", "humaneval-x", "rust.jsonl.gz")), CompressionMode.Decompress);
        var first = JsonDocument.Parse(new StreamReader(gz).ReadLine()!).RootElement;
        var prompt = first.GetProperty("prompt").GetString()!;
        Assert.StartsWith("Rust/", first.GetProperty("task_id").GetString());
        var cut = CompletionTruncation.Truncate("Rust", prompt, "    return false;\n}\n\nfn main() {}\n");
        Assert.Equal("    return false;\n}\n", cut);
        Assert.Equal("    return false;\n}\n", CompletionTruncation.Truncate("Rust", prompt, "    return false;\n"));

        // With its runner, the harness executes it: the row's aliases are the harness's.
        Assert.Equal(EvalLanguages.Rust, EvalLanguages.Normalize("rust"));
        Assert.Equal(EvalLanguages.Rust, EvalLanguages.FromTaskId("Rust/50"));
    }

    [Fact]
    public void Tag_lines_are_read_back_for_every_comment_style()
    {
        foreach (var row in LanguageTable.All)
            Assert.Equal(LanguageTag.Prefix(row.Name), LanguageTag.ReadLine(LanguageTag.Prefix(row.Name) + "body\n"));
        Assert.Null(LanguageTag.ReadLine("int language: x;\nbody\n"));
    }
}
