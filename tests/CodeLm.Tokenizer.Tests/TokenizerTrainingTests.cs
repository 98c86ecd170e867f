using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Shards;
using CodeLm.Tests;
using CodeLm.Tokenizer.Training;

namespace CodeLm.Tokenizer.Tests;

public class TokenizerTrainingTests
{
    private static async Task<string> Corpus(TempDir tmp)
    {
        var dir = tmp.File("corpus");
        await CorpusFiles.WriteAsync(Path.Combine(dir, CorpusFiles.Train),
            CorpusRepos.TextFiles("requests").Select(f => new CorpusRecord("requests", f.Path, "Python", "Apache-2.0", "abc", f.Text)));
        await CorpusFiles.WriteAsync(Path.Combine(dir, CorpusFiles.Validation),
            CorpusRepos.TextFiles("cobra").Take(5).Select(f => new CorpusRecord("cobra", f.Path, "Go", "Apache-2.0", "def", f.Text)));
        return dir;
    }

    [Fact]
    public async Task Trains_on_a_bounded_seeded_sample_of_the_train_split()
    {
        using var tmp = new TempDir();
        var corpus = await Corpus(tmp);
        var reports = new List<BpeTrainingProgress>();
        var progress = new SyncProgress(reports.Add);
        var a = await TokenizerTraining.RunAsync(new TokenizerTrainingOptions(corpus, tmp.File("a"), VocabSize: 1000, SampleChars: 1_000_000, Seed: 1), progress);
        var b = await TokenizerTraining.RunAsync(new TokenizerTrainingOptions(corpus, tmp.File("b"), VocabSize: 1000, SampleChars: 1_000_000, Seed: 1));
        var c = await TokenizerTraining.RunAsync(new TokenizerTrainingOptions(corpus, tmp.File("c"), VocabSize: 1000, SampleChars: 1_000_000, Seed: 2));

        Assert.True(a.CorpusChars > 1_500_000, $"corpus {a.CorpusChars} chars");
        Assert.InRange(a.SampledChars, 500_000, 1_000_000 + 600_000); // stops at the budget (the last file may overshoot)
        Assert.Equal(a.Hash, b.Hash);                                   // same seed, same tokenizer
        Assert.NotEqual(a.Hash, c.Hash);                                // another sample
        Assert.Equal(1000, a.VocabSize);
        Assert.Contains(reports, p => p.Phase == "merge" && p.Done == 1000);

        var tok = CodeTokenizer.Load(tmp.File("a"));
        Assert.Equal("# language: Python\n", tok.Decode(tok.Encode("# language: Python\n")));
    }

    [Fact]
    public async Task Stops_early_when_no_pair_reaches_the_minimum_frequency()
    {
        using var tmp = new TempDir();
        var corpus = await Corpus(tmp);
        var r = await TokenizerTraining.RunAsync(new TokenizerTrainingOptions(corpus, tmp.File("t"), VocabSize: 60000, MinFrequency: 50));
        Assert.InRange(r.VocabSize, 262, 59_999);
    }

    [Fact]
    public async Task Bad_options_and_missing_corpus_fail_clearly()
    {
        using var tmp = new TempDir();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => TokenizerTraining.RunAsync(new TokenizerTrainingOptions(tmp.Path, tmp.File("t"), VocabSize: 100)));
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => TokenizerTraining.RunAsync(new TokenizerTrainingOptions(tmp.Path, tmp.File("t"))));
        Assert.Contains("train.parquet", e.Message);
    }

    private sealed class SyncProgress(Action<BpeTrainingProgress> onReport) : IProgress<BpeTrainingProgress>
    {
        private readonly Lock _gate = new();
        public void Report(BpeTrainingProgress value) { lock (_gate) onReport(value); }
    }
}
