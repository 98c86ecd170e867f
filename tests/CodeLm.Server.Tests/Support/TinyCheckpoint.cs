using CodeLm.Common;
using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;
using CodeLm.Server.Engine;
using CodeLm.Tests;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Training;
using static TorchSharp.torch;
using Generator = CodeLm.Model.Generation.Generator;

namespace CodeLm.Server.Tests.Support;

/// <summary>
/// A real checkpoint made in the test run: a byte-level BPE tokenizer trained on this repository's server sources and
/// a 2-layer GPT with random weights, saved with <see cref="Checkpoint.Save"/>. The weight seed is the first one whose
/// greedy continuation of <see cref="ProbePrefix"/> (SPM, the server's default layout) runs <see cref="LongRun"/> tokens on one line, so tests get
/// non-empty completions and a generation long enough to cancel.
/// </summary>
public sealed class TinyCheckpoint : IDisposable
{
    public const string ProbePrefix = "# language: Python\ndef scale(values, factor):\n    result = ";
    public const int LongRun = 200;

    private readonly TempDir temp = new();
    public string Dir { get; }
    public int Seed { get; }

    public TinyCheckpoint()
    {
        TorchNativeLoader.EnsureLoaded();
        var sources = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "Server"), "*.cs", SearchOption.AllDirectories)
            .Select(File.ReadAllText).Append(ProbePrefix).ToList();
        var tokenizerDir = temp.File("tokenizer");
        BpeTrainer.Train(sources, new BpeTrainerOptions(VocabSize: 512, MinFrequency: 2, Threads: 1)).Save(tokenizerDir);
        var tokenizer = CodeTokenizer.Load(tokenizerDir);
        Dir = temp.File("ckpt");
        for (var seed = 1; ; seed++)
        {
            manual_seed(seed);
            using var model = new Gpt(new GptConfig(tokenizer.VocabSize, ContextLength: 256, Layers: 2, Heads: 2, Embedding: 64));
            model.eval();
            var probe = new Generator(model, tokenizer, CPU).GenerateFim(ProbePrefix, "\n", 1, new SamplingOptions(MaxNewTokens: LongRun) { FimFormat = FimFormat.Spm })[0];
            if ((probe.Tokens == LongRun && !probe.Text.Contains('\n') && probe.Text.Trim().Length >= 4) || seed == 40)
            {
                Checkpoint.Save(Dir, model, tokenizerDir);
                Seed = seed;
                break;
            }
        }
    }

    public CheckpointCompletionEngine LoadEngine(bool reuseKvCache = true) => CheckpointCompletionEngine.Load(Dir, "cpu", reuseKvCache);

    public void Dispose() => temp.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TinyCheckpointCollection : ICollectionFixture<TinyCheckpoint>
{
    public const string Name = "tiny checkpoint";
}
