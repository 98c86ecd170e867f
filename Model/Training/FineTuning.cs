using CodeLm.Common;
using CodeLm.Model.Hf;
using CodeLm.Model.Lora;
using CodeLm.Tokenizer;
using static TorchSharp.torch;

namespace CodeLm.Model.Training;

/// <summary>
/// A run that starts from a trained model (<see cref="TrainOptions.InitFrom"/>): the model, its family (whose module
/// names a LoRA adapter uses), and for LoRA the base it is tied to. Made only after the model's shape and tokenizer are
/// checked against the run's, so a mismatch is refused before anything is loaded.
/// </summary>
internal sealed record FineTuning(string ModelDir, HfFamily Family, LoraOptions? Lora, BaseModel? Base)
{
    public static FineTuning Of(string initFrom, GptConfig config, TrainData data, TrainOptions options)
    {
        if (!Directory.Exists(initFrom)) throw new OptionException(nameof(TrainOptions.InitFrom), $"'{initFrom}' does not exist.");
        var dir = Checkpoint.Resolve(initFrom);
        var own = Checkpoint.LoadConfig(dir);
        if (own != config)
            throw new OptionException(nameof(TrainOptions.InitFrom), $"gives the model shape {own}, but the run was set up for {config}; the shape of a fine-tuning run is the model's.");
        var tokenizerJson = Path.Combine(Checkpoint.TokenizerDirOf(dir), TokenizerFiles.TokenizerJson);
        var hash = TokenizerFiles.Sha256File(tokenizerJson);
        if (hash != data.TokenizerHash)
            throw new OptionException(nameof(TrainOptions.InitFrom), $"has tokenizer {hash[..12]}, but the shards were made with tokenizer {data.TokenizerHash[..Math.Min(12, data.TokenizerHash.Length)]}: "
                + "tokenize the corpus with the model's own tokenizer.");
        var family = PeftAdapter.FamilyOf(dir, config);
        return new FineTuning(dir, family, options.Lora, options.Lora != null ? BaseModel.Of(dir) : null);
    }

    /// <summary>Parameters the optimizer updates: all of them, or LoRA's.</summary>
    public long Trainable(GptConfig config) => Lora is { } lora ? LoraModel.TrainableCount(config, Family, lora) : config.ParameterCount();

    /// <summary>The model to train, in float32 on the CPU, with LoRA applied (A drawn from the seeded torch RNG).</summary>
    public Gpt Load(int seed)
    {
        var (model, _) = Checkpoint.LoadModel(ModelDir, CPU);
        if (Lora is { } lora)
        {
            manual_seed(seed);
            LoraModel.Apply(model, Family, lora);
        }
        return model;
    }

    /// <summary>A run checkpoint's weights: the full model, or the adapter alone (the base is stored once, where it is).</summary>
    public void Save(string stage, Gpt model)
    {
        if (Lora is { } lora) PeftAdapter.Save(stage, model, Family, lora, Base!);
        else Checkpoint.SaveWeights(Path.Combine(stage, Checkpoint.WeightsFile), model);
    }

    public void LoadCheckpoint(Gpt model, string checkpointDir)
    {
        if (Lora != null) PeftAdapter.LoadWeights(model, Family, checkpointDir);
        else Checkpoint.LoadWeights(model, Path.Combine(checkpointDir, Checkpoint.WeightsFile));
    }
}
