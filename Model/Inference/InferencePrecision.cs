using CodeLm.Common;

namespace CodeLm.Model.Inference;

/// <summary>
/// What a user asks for (`codelm serve --precision`): <see cref="Auto"/> picks per machine (see
/// <see cref="CpuInference.Choose"/>), <see cref="Int8"/> forces int8 decoding steps, <see cref="Float32"/> keeps the
/// checkpoint's weights throughout.
/// </summary>
public enum InferencePrecision { Auto, Int8, Float32 }

/// <summary>The weights a decoding step (one position per sequence) reads.</summary>
public enum StepWeights { Float32, Int8 }

/// <summary>The weights a prompt (several positions) reads.</summary>
public enum PromptWeights { Float32, BFloat16 }

/// <summary>What a model computes with, once chosen: "float32", or e.g. "int8 steps, bfloat16 prompts".</summary>
public sealed record InferenceWeights(StepWeights Steps, PromptWeights Prompts)
{
    public static readonly InferenceWeights Float32 = new(StepWeights.Float32, PromptWeights.Float32);

    public override string ToString() =>
        this == Float32 ? "float32" : $"{Steps.ToString().ToLowerInvariant()} steps, {Prompts.ToString().ToLowerInvariant()} prompts";
}

public static class InferencePrecisions
{
    /// <summary>The command-line spelling: auto, int8 or float32.</summary>
    public static InferencePrecision Parse(string text) => text switch
    {
        "auto" => InferencePrecision.Auto,
        "int8" => InferencePrecision.Int8,
        "float32" => InferencePrecision.Float32,
        _ => throw new OptionException("Precision", $"must be auto, int8 or float32, got '{text}'"),
    };
}
