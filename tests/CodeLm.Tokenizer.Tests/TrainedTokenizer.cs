using CodeLm.Tokenizer.Training;

namespace CodeLm.Tokenizer.Tests;

/// <summary>A small tokenizer trained once per run on two real repos (cobra, MediatR), shared by the test classes.</summary>
public sealed class TrainedTokenizer : IDisposable
{
    public const int Vocab = 4000;
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("codelm-tok-").FullName;
    public CodeTokenizer Tokenizer { get; }
    public TrainedBpe Trained { get; }

    public TrainedTokenizer()
    {
        var docs = CorpusRepos.TextFiles("cobra").Concat(CorpusRepos.TextFiles("MediatR")).Select(f => f.Text);
        Trained = BpeTrainer.Train(docs, new BpeTrainerOptions(VocabSize: Vocab, MinFrequency: 2));
        Trained.Save(Directory);
        Tokenizer = CodeTokenizer.Load(Directory);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class TrainedCollection : ICollectionFixture<TrainedTokenizer>
{
    public const string Name = "trained tokenizer";
}
