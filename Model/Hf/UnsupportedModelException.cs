namespace CodeLm.Model.Hf;

/// <summary>Which part of a Hugging Face model folder CodeLm could not take.</summary>
public enum ModelPart
{
    /// <summary>config.json's model_type: not a family CodeLm reads, or one llama.cpp has no architecture for.</summary>
    ModelType,
    /// <summary>No safetensors weights (model.safetensors, or model.safetensors.index.json and its shards).</summary>
    Weights,
    /// <summary>A weight tensor's dtype (F32, F16 and BF16 are read).</summary>
    TensorType,
    /// <summary>A setting of config.json that CodeLm's model or llama.cpp's architecture cannot express (a rope scaling type, an activation).</summary>
    Setting,
    /// <summary>tokenizer.json: not a byte-level BPE, or a pre-tokenizer that llama.cpp has no name for.</summary>
    Tokenizer,
}

/// <summary>
/// A Hugging Face model folder CodeLm cannot load, or cannot export to a GGUF llama.cpp runs, with what was found and what
/// is supported, so a caller can say both without parsing the message.
/// </summary>
public sealed class UnsupportedModelException(string folder, ModelPart part, string found, IReadOnlyList<string> supported, string? action = null)
    : NotSupportedException($"'{folder}' cannot be {action ?? "loaded"}: {Describe(part, found)}; supported: {string.Join(", ", supported)}.")
{
    public string Folder { get; } = folder;
    public ModelPart Part { get; } = part;
    public string Found { get; } = found;
    public IReadOnlyList<string> Supported { get; } = supported;

    public static UnsupportedModelException ForGguf(string folder, ModelPart part, string found, IReadOnlyList<string> supported) =>
        new(folder, part, found, supported, "exported to GGUF");

    private static string Describe(ModelPart part, string found) => part switch
    {
        ModelPart.ModelType => $"model_type '{found}' is not a family read here",
        ModelPart.Weights => $"it has no safetensors weights (found {found})",
        ModelPart.TensorType => $"tensor dtype {found} is not read",
        ModelPart.Setting => $"{found} is not supported",
        ModelPart.Tokenizer => $"its tokenizer ({found}) is not supported",
        _ => $"{part} {found}",
    };
}
