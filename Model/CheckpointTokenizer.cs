using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Model;

public static partial class Checkpoint
{
    /// <summary>
    /// Loads model (eval mode, on <paramref name="device"/>), config and tokenizer: a CodeLm checkpoint's own tokenizer/
    /// copy, or a Hugging Face folder's tokenizer.json.
    /// </summary>
    public static (Gpt model, GptConfig config, CodeTokenizer tokenizer) Load(string dir, Device device, Action<string>? progress = null,
        ScalarType linearWeights = ScalarType.Float32)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Checkpoint directory '{dir}' does not exist.");
        var tokenizerDir = TokenizerDirOf(dir);
        var tokenizer = CodeTokenizer.Load(tokenizerDir);
        var (model, config) = LoadModel(dir, device, progress: progress, linearWeights: linearWeights);
        // A model may have more rows than its tokenizer has tokens (Qwen2.5: 151,936 for 151,665; a preset's round
        // vocabulary over a smaller tokenizer); the generator never samples the extra ones. Fewer rows cannot work.
        if (config.VocabSize < tokenizer.VocabSize)
        {
            model.Dispose();
            throw new InvalidDataException($"'{dir}': the model has a {config.VocabSize}-token vocabulary but its tokenizer has {tokenizer.VocabSize}.");
        }
        return (model, config, tokenizer);
    }

    /// <summary>Where a checkpoint's tokenizer lives: its tokenizer/ copy, or a Hugging Face folder itself.</summary>
    public static string TokenizerDirOf(string dir)
    {
        if (Hf.HfCheckpoint.IsHfFolder(dir))
            return File.Exists(Path.Combine(dir, TokenizerFiles.TokenizerJson)) ? dir
                : throw new FileNotFoundException($"'{dir}' has no {TokenizerFiles.TokenizerJson}; CodeLm needs the model's fast-tokenizer file beside its weights.");
        var tokenizerDir = Path.Combine(dir, TokenizerDirName);
        return Directory.Exists(tokenizerDir) ? tokenizerDir
            : throw new DirectoryNotFoundException($"'{dir}' has no {TokenizerDirName}/ folder; it is not a complete checkpoint.");
    }
}
