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
}
