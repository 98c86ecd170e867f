using CodeLm.Model;
using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Tests;

/// <summary>
/// A small, randomly initialized (seeded) checkpoint for the tests of stages that load one: 2 layers, 2 heads, 64 wide,
/// 256-token context, the given tokenizer's vocabulary. Deterministic for a given tokenizer and seed.
/// </summary>
public static class RandomCheckpoint
{
    public static GptConfig Config(int vocabSize) => new(vocabSize, ContextLength: 256, Layers: 2, Heads: 2, Embedding: 64);

    /// <summary>Writes the checkpoint into <paramref name="dir"/> and returns it.</summary>
    public static string Create(string dir, CodeTokenizer tokenizer, int seed = 0)
    {
        CodeLm.Model.Native.TorchNativeLoader.EnsureLoaded();
        manual_seed(seed);
        using var model = new Gpt(Config(tokenizer.VocabSize));
        Checkpoint.Save(dir, model, tokenizer.Directory);
        return dir;
    }
}
