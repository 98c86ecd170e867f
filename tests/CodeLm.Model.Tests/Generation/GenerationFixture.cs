using CodeLm.Tests;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests.Generation;

/// <summary>
/// Shared by the generation tests: a BPE tokenizer trained on the real `requests` repo, its Python files, and a
/// random-init GPT with a 512-token context (seeded, so runs are repeatable).
/// </summary>
public sealed class GenerationFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public CodeTokenizer Tokenizer { get; }
    public IReadOnlyList<string> PythonFiles { get; }
    public Gpt Model { get; }

    public GenerationFixture()
    {
        Torch.Init();
        var repo = Path.Combine(_dir.Path, "requests");
        var clone = Proc.Run("git", ["clone", "--quiet", "--depth", "1", "file://" + TestPaths.SharedCorpus("requests"), repo]);
        Assert.True(clone.ExitCode == 0, clone.Stderr);
        PythonFiles = Directory.EnumerateFiles(repo, "*.py", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Select(File.ReadAllText).Where(t => t.Length > 2000).ToList();
        Assert.True(PythonFiles.Count >= 5, "the requests clone has too few Python files");

        var tokDir = Path.Combine(_dir.Path, "tokenizer");
        BpeTrainer.Train(PythonFiles, new BpeTrainerOptions(VocabSize: 1200, MinFrequency: 2)).Save(tokDir);
        Tokenizer = CodeTokenizer.Load(tokDir);

        manual_seed(1234);
        Model = new Gpt(new GptConfig(Tokenizer.VocabSize, ContextLength: 512, Layers: 2, Heads: 2, Embedding: 64));
        Model.eval();
    }

    /// <summary>A real Python snippet of roughly <paramref name="tokens"/> tokens (cut at a line end).</summary>
    public string PythonPrompt(int tokens, int file = 0)
    {
        var text = PythonFiles[file % PythonFiles.Count];
        var ids = Tokenizer.Encode(text);
        var cut = Tokenizer.Decode(ids.AsSpan(0, Math.Min(tokens, ids.Length)));
        int newline = cut.LastIndexOf('\n');
        return newline > 0 ? cut[..(newline + 1)] : cut;
    }

    public void Dispose()
    {
        Model.Dispose();
        _dir.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class GenerationCollection : ICollectionFixture<GenerationFixture>
{
    public const string Name = "generation";
}
