using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Model;

public static partial class Checkpoint
{
    /// <summary>Loads model (eval mode, on <paramref name="device"/>), config and the checkpoint's own tokenizer copy.</summary>
    public static (Gpt model, GptConfig config, CodeTokenizer tokenizer) Load(string dir, Device device)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Checkpoint directory '{dir}' does not exist.");
        var tokenizerDir = Path.Combine(dir, TokenizerDirName);
        if (!Directory.Exists(tokenizerDir)) throw new DirectoryNotFoundException($"'{dir}' has no {TokenizerDirName}/ folder; it is not a complete checkpoint.");
        var tokenizer = CodeTokenizer.Load(tokenizerDir);
        var (model, config) = LoadModel(dir, device);
        if (config.VocabSize != tokenizer.VocabSize)
        {
            model.Dispose();
            throw new InvalidDataException($"'{dir}': the model has a {config.VocabSize}-token vocabulary but its tokenizer has {tokenizer.VocabSize}.");
        }
        return (model, config, tokenizer);
    }
}
