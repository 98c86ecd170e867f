using System.Text.Json;
using CodeLm.Tests;
using CodeLm.Tokenizer.Shards;

namespace CodeLm.Tokenizer.Tests;

public class IndexedDatasetTests
{
    private sealed record PyView(string Magic, ulong Version, int Dtype, ulong Sequences, long[] DocIdx, long[] Pointers, int[][] Documents);

    private static PyView ReadWithPython(string prefix)
    {
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "CodeLm.Tokenizer.Tests", "read_mmididx.py");
        var r = Proc.Run("python3", [script, prefix]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonSerializer.Deserialize<PyView>(r.Stdout, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    }

    private static int[][] RandomDocs(int count, int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, rng.Next(0, 300)).Select(_ => rng.Next(vocab)).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(32768, 8, 2)]     // uint16
    [InlineData(65499, 8, 2)]
    [InlineData(65500, 4, 4)]     // int32 from 65,500 on, as Megatron does
    [InlineData(100_277, 4, 4)]
    public void Written_dataset_reads_back_in_python_and_csharp(int vocab, int dtype, int width)
    {
        using var tmp = new TempDir();
        var prefix = tmp.File("data");
        var docs = RandomDocs(50, vocab, vocab);
        using (var w = new IndexedDatasetWriter(prefix, vocab))
        {
            foreach (var d in docs) w.Add(d);
            Assert.False(File.Exists(prefix + ".idx")); // nothing visible before Commit
            w.Commit();
        }

        var header = File.ReadAllBytes(prefix + ".idx").AsSpan(0, 34).ToArray();
        Assert.Equal("MMIDIDX\0\0"u8.ToArray(), header[..9]);
        Assert.Equal(1UL, BitConverter.ToUInt64(header, 9));
        Assert.Equal(dtype, header[17]);
        Assert.Equal((ulong)docs.Length, BitConverter.ToUInt64(header, 18));
        Assert.Equal((ulong)docs.Length + 1, BitConverter.ToUInt64(header, 26));
        Assert.Equal(docs.Sum(d => (long)d.Length) * width, new FileInfo(prefix + ".bin").Length);

        var py = ReadWithPython(prefix);
        Assert.Equal("4d4d49444944580000", py.Magic);
        Assert.Equal(1UL, py.Version);
        Assert.Equal(dtype, py.Dtype);
        Assert.Equal(Enumerable.Range(0, docs.Length + 1).Select(i => (long)i), py.DocIdx);
        Assert.Equal(0, py.Pointers[0]);
        for (var i = 0; i < docs.Length; i++) Assert.Equal(docs[i], py.Documents[i]);

        using var reader = IndexedDatasetReader.Open(prefix);
        Assert.Equal(docs.Length, reader.Count);
        Assert.Equal(docs.Sum(d => (long)d.Length), reader.TotalTokens);
        for (var i = 0; i < docs.Length; i++) Assert.Equal(docs[i], reader.GetDocument(i));
        var longest = docs.Select((d, i) => (d, i)).MaxBy(x => x.d.Length);
        var part = new int[10];
        reader.ReadTokens(longest.i, 5, part);
        Assert.Equal(longest.d.AsSpan(5, 10).ToArray(), part);
    }

    [Fact]
    public void Dispose_without_commit_leaves_nothing()
    {
        using var tmp = new TempDir();
        using (var w = new IndexedDatasetWriter(tmp.File("x"), 1000)) w.Add([1, 2, 3]);
        Assert.Empty(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public void Out_of_vocabulary_ids_are_refused()
    {
        using var tmp = new TempDir();
        using var w = new IndexedDatasetWriter(tmp.File("x"), 1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => w.Add([1, 1000]));
    }

    [Fact]
    public void Truncated_or_foreign_files_fail_clearly()
    {
        using var tmp = new TempDir();
        var prefix = tmp.File("d");
        using (var w = new IndexedDatasetWriter(prefix, 1000)) { w.Add([1, 2, 3]); w.Add([4]); w.Commit(); }

        var idx = File.ReadAllBytes(prefix + ".idx");
        File.WriteAllBytes(prefix + ".idx", idx[..^8]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => IndexedDatasetReader.Open(prefix)).Message);

        File.WriteAllBytes(prefix + ".idx", idx);
        File.WriteAllBytes(prefix + ".bin", new byte[4]);
        Assert.Contains("outside", Assert.Throws<InvalidDataException>(() => IndexedDatasetReader.Open(prefix)).Message);

        idx[0] = (byte)'X';
        File.WriteAllBytes(prefix + ".idx", idx);
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => IndexedDatasetReader.Open(prefix)).Message);

        Assert.Throws<FileNotFoundException>(() => IndexedDatasetReader.Open(tmp.File("missing")));
    }

    [Fact]
    public void Empty_documents_and_empty_datasets_work()
    {
        using var tmp = new TempDir();
        using (var w = new IndexedDatasetWriter(tmp.File("e"), 10)) { w.Add([]); w.Commit(); }
        using var r = IndexedDatasetReader.Open(tmp.File("e"));
        Assert.Equal(1, r.Count);
        Assert.Empty(r.GetDocument(0));
    }
}
