using CodeLm.Common;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Shards;
using CodeLm.Tests;
using CodeLm.Tokenizer.Shards;

namespace CodeLm.Tokenizer.Tests;

[Collection(TrainedCollection.Name)]
public class ShardBuilderTests(TrainedTokenizer trained)
{
    private static string LanguageOf(string path) => Path.GetExtension(path) switch
    {
        ".go" => "Go", ".js" => "JavaScript", ".md" => "Markdown", ".json" => "JSON", ".yml" or ".yaml" => "YAML", _ => "Text",
    };

    internal static IEnumerable<CorpusRecord> Records(string repo) => CorpusRepos.TextFiles(repo)
        .Select(f => new CorpusRecord(repo, f.Path, LanguageOf(f.Path), "MIT", "0123456789abcdef", f.Text));

    /// <summary>A real corpus: cobra as train, express as validation (split by repository).</summary>
    internal static async Task<string> MakeCorpus(TempDir tmp)
    {
        var dir = Path.Combine(tmp.Path, "corpus");
        await CorpusFiles.WriteAsync(Path.Combine(dir, CorpusFiles.Train), Records("cobra"));
        await CorpusFiles.WriteAsync(Path.Combine(dir, CorpusFiles.Validation), Records("express"));
        return dir;
    }

    [Fact]
    public async Task Shards_hold_every_document_tagged_and_terminated()
    {
        using var tmp = new TempDir();
        var corpus = await MakeCorpus(tmp);
        var outDir = tmp.File("shards");
        var result = await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, trained.Directory, outDir, Threads: 2, ChunkDocuments: 16));
        Assert.False(result.AlreadyUpToDate);

        var manifest = ShardSet.Load(outDir, trained.Tokenizer.Hash);
        Assert.Equal(trained.Tokenizer.Hash, manifest.TokenizerHash);
        Assert.Equal(CorpusInputs.Hash(corpus), manifest.CorpusHash);
        Assert.Equal("uint16", manifest.TokenType);
        Assert.Equal(new DocumentFraming(TokenizerKind.CodeLm, TagLines: true, EndOfText: 0, BeginOfText: null), manifest.Documents);
        Assert.Equal(trained.Tokenizer.Hash, CodeTokenizer.Load(ShardSet.TokenizerDir(outDir)).Hash);

        foreach (var (split, repo) in new[] { ("train", "cobra"), ("validation", "express") })
        {
            var rows = Records(repo).ToList();
            var stats = manifest.Split(split);
            Assert.Equal(rows.Count, stats.Documents);
            Assert.Equal(stats.Tokens, stats.TokensByLanguage.Values.Sum());
            Assert.Equal(rows.Count(r => r.Language == "Markdown"), stats.DocumentsByLanguage.GetValueOrDefault("Markdown"));
            using var reader = IndexedDatasetReader.Open(ShardSet.Prefix(outDir, split));
            Assert.Equal(stats.Tokens, reader.TotalTokens);
            for (var i = 0; i < rows.Count; i++)
            {
                var doc = reader.GetDocument(i);
                Assert.Equal(trained.Tokenizer.EndOfText, doc[^1]);
                Assert.Equal(LanguageTag.Prefix(rows[i].Language) + rows[i].Content, trained.Tokenizer.Decode(doc.AsSpan(0, doc.Length - 1)));
            }
        }
        Assert.Empty(Directory.GetDirectories(outDir, ".work-*"));

        var again = await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, trained.Directory, outDir, ChunkDocuments: 16));
        Assert.True(again.AlreadyUpToDate);
    }

    [Fact]
    public async Task An_interrupted_run_resumes_from_its_finished_chunks_and_gives_the_same_bytes()
    {
        using var tmp = new TempDir();
        var corpus = await MakeCorpus(tmp);
        var clean = tmp.File("clean");
        await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, trained.Directory, clean, Threads: 1, ChunkDocuments: 8));

        var resumed = tmp.File("resumed");
        using (var cts = new CancellationTokenSource())
        {
            var progress = new SyncProgress(p => { if (p.Documents >= 24) cts.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                ShardBuilder.RunAsync(new ShardBuildOptions(corpus, trained.Directory, resumed, Threads: 1, ChunkDocuments: 8), progress, cts.Token));
        }
        Assert.False(File.Exists(Path.Combine(resumed, ShardManifest.FileName)));
        Assert.Throws<FileNotFoundException>(() => ShardSet.Load(resumed));

        var result = await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, trained.Directory, resumed, Threads: 1, ChunkDocuments: 8));
        Assert.True(result.ChunksReused >= 3, $"reused {result.ChunksReused}");
        foreach (var f in new[] { "train.bin", "train.idx", "validation.bin", "validation.idx", "manifest.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(clean, f)), File.ReadAllBytes(Path.Combine(resumed, f)));
    }

    [Fact]
    public async Task Shards_whose_tokenizer_does_not_match_the_manifest_are_refused()
    {
        using var tmp = new TempDir();
        var corpus = await MakeCorpus(tmp);
        var outDir = tmp.File("shards");
        await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, trained.Directory, outDir, ChunkDocuments: 64));

        // Someone else's tokenizer in the set's folder: a different vocabulary, same format.
        var other = tmp.File("other");
        Training.BpeTrainer.Train(CorpusRepos.TextFiles("express").Select(f => f.Text), new Training.BpeTrainerOptions(600)).Save(other);
        var otherHash = CodeTokenizer.Load(other).Hash;
        var e1 = Assert.Throws<InvalidDataException>(() => ShardSet.Load(outDir, otherHash));
        Assert.Contains("not with the tokenizer in use", e1.Message);
        var named = Assert.Throws<InvalidDataException>(() => ShardSet.Load(outDir, CodeTokenizer.Load(other)));
        Assert.Contains($"a CodeLm tokenizer {trained.Tokenizer.Hash[..12]} (vocabulary {trained.Tokenizer.VocabSize:N0})", named.Message);
        Assert.Contains($"'{Path.GetFullPath(other)}', a CodeLm tokenizer {otherHash[..12]} (vocabulary 600)", named.Message);

        File.Copy(Path.Combine(other, "tokenizer.json"), Path.Combine(ShardSet.TokenizerDir(outDir), "tokenizer.json"), overwrite: true);
        var e2 = Assert.Throws<InvalidDataException>(() => ShardSet.Load(outDir));
        Assert.Contains("were made with tokenizer", e2.Message);
    }

    [Fact]
    public async Task Missing_corpus_or_tokenizer_fail_clearly()
    {
        using var tmp = new TempDir();
        var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            ShardBuilder.RunAsync(new ShardBuildOptions(tmp.File("nope"), trained.Directory, tmp.File("out"))));
        Assert.Contains("codelm data build", e.Message);
        await Assert.ThrowsAsync<TokenizerNotFoundException>(() =>
            ShardBuilder.RunAsync(new ShardBuildOptions(tmp.Path, tmp.File("no-tokenizer"), tmp.File("out"))));
    }

    private sealed class SyncProgress(Action<ShardProgress> onReport) : IProgress<ShardProgress>
    {
        public void Report(ShardProgress value) => onReport(value);
    }
}
