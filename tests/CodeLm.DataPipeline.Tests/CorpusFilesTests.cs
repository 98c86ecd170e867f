using System.Text.Json;
using CodeLm.DataPipeline.Corpus;
using CodeLm.Tests;

namespace CodeLm.DataPipeline.Tests;

public class CorpusFilesTests
{
    private static List<CorpusRecord> Sample(int n) => Enumerable.Range(0, n)
        .Select(i => new CorpusRecord($"repo{i % 3}", $"src/file{i:D4}.py", i % 2 == 0 ? "Python" : "C#", "MIT",
                                      new string('a', 40), $"def f{i}():\n    return \"héllo ✓ {i}\"\n"))
        .ToList();

    [Fact]
    public async Task RoundTripsRowsInOrder()
    {
        using var tmp = new TempDir();
        var rows = Sample(1000);
        rows.Add(new CorpusRecord("r", "empty.txt", "Text", "unknown", "b", ""));
        var path = tmp.File(CorpusFiles.Train);
        await CorpusFiles.WriteAsync(path, rows);
        var back = new List<CorpusRecord>();
        await foreach (var r in CorpusFiles.ReadAsync(path)) back.Add(r);
        Assert.Equal(rows, back);
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp"));
    }

    [Fact]
    public async Task EmptyCorpusIsAValidFile()
    {
        using var tmp = new TempDir();
        var path = tmp.File(CorpusFiles.Validation);
        await CorpusFiles.WriteAsync(path, []);
        var n = 0;
        await foreach (var _ in CorpusFiles.ReadAsync(path)) n++;
        Assert.Equal(0, n);
    }

    [Fact]
    public async Task SameRowsGiveIdenticalBytes()
    {
        using var tmp = new TempDir();
        await CorpusFiles.WriteAsync(tmp.File("a.parquet"), Sample(200));
        await CorpusFiles.WriteAsync(tmp.File("b.parquet"), Sample(200));
        Assert.Equal(File.ReadAllBytes(tmp.File("a.parquet")), File.ReadAllBytes(tmp.File("b.parquet")));
    }

    [Fact]
    public async Task FailedWriteLeavesPreviousFileIntact()
    {
        using var tmp = new TempDir();
        var path = tmp.File(CorpusFiles.Train);
        await CorpusFiles.WriteAsync(path, Sample(10));
        var before = File.ReadAllBytes(path);
        IEnumerable<CorpusRecord> Failing()
        {
            foreach (var r in Sample(5)) yield return r;
            throw new IOException("source vanished");
        }
        await Assert.ThrowsAsync<IOException>(() => CorpusFiles.WriteAsync(path, Failing()));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(tmp.Path, ".*")));
    }

    [Fact]
    public async Task MissingOrCorruptFileGivesClearError()
    {
        using var tmp = new TempDir();
        await Assert.ThrowsAsync<FileNotFoundException>(async () => { await foreach (var _ in CorpusFiles.ReadAsync(tmp.File("nope.parquet"))) { } });
        File.WriteAllText(tmp.File("bad.parquet"), "this is not parquet");
        var e = await Assert.ThrowsAsync<InvalidDataException>(async () => { await foreach (var _ in CorpusFiles.ReadAsync(tmp.File("bad.parquet"))) { } });
        Assert.Contains("bad.parquet", e.Message);
    }

    /// <summary>
    /// The corpus files come from CodeLm's own Parquet writer, so DuckDB, a reader independent of it and of Parquet.Net,
    /// must see the same rows and a string schema: across a row group closed by its row count and one closed by its
    /// content size, pages of many small values, a value larger than a page, multi-byte text and empty values.
    /// </summary>
    [Fact]
    public async Task AnIndependentReaderSeesTheSameRows()
    {
        using var tmp = new TempDir();
        var rows = Enumerable.Range(0, 50_500)
            .Select(i => new CorpusRecord($"repo{i % 7}", $"src/f{i:D5}.rs", "Rust", i % 2 == 0 ? "MIT" : "Apache-2.0", "0123abcd",
                                          i % 1000 == 0 ? "" : $"fn f{i}() -> &'static str {{ \"ünïcödé ✓ 😀 {i}\" }}\n"))
            .ToList();
        var big = string.Concat(Enumerable.Repeat("let wide = \"0123456789abcdef ✓\";\n", 180_000)); // ~6.3 MB, one value
        rows.AddRange(Enumerable.Range(0, 3).Select(i => new CorpusRecord("big", $"big{i}.rs", "Rust", "MIT", "e", big + i)));
        rows.Add(new CorpusRecord("last", "", "Text", "", "", "x"));
        var path = tmp.File(CorpusFiles.Train);
        await CorpusFiles.WriteAsync(path, rows);

        var r = Proc.Run("node", [Path.Combine(TestPaths.RepoRoot, "tests", "node-ref", "read-parquet.js"), path]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        var columns = root.GetProperty("schema").EnumerateArray().Skip(1).ToList();
        Assert.Equal(["repo", "path", "language", "license", "sha", "content"], columns.Select(c => c.GetProperty("name").GetString()));
        Assert.All(columns, c =>
        {
            Assert.Equal("BYTE_ARRAY", c.GetProperty("type").GetString());
            Assert.Equal("UTF8", c.GetProperty("converted_type").GetString());
            Assert.Equal("REQUIRED", c.GetProperty("repetition_type").GetString());
        });
        // 50,000 rows close the first group; the second closes once its content passes 16 MB (after the third big value).
        var groups = root.GetProperty("rowGroups").EnumerateArray().ToList();
        Assert.Equal(["50000", "503", "1"], groups.Select(g => g.GetProperty("num_rows").ToString()));
        Assert.All(groups, g => Assert.Equal("ZSTD", g.GetProperty("codec").GetString()));
        var back = root.GetProperty("rows").EnumerateArray()
            .Select(x => new CorpusRecord(x.GetProperty("repo").GetString()!, x.GetProperty("path").GetString()!, x.GetProperty("language").GetString()!,
                                          x.GetProperty("license").GetString()!, x.GetProperty("sha").GetString()!, x.GetProperty("content").GetString()!))
            .ToList();
        Assert.Equal(rows.Count, back.Count);
        Assert.Equal(rows, back);
    }
}
