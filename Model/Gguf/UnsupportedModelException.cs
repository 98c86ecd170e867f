namespace CodeLm.Model.Gguf;

/// <summary>Which part of a Hugging Face folder the GGUF converter could not take.</summary>
public enum ModelPart
{
    /// <summary>config.json's model_type: no llama.cpp architecture is mapped for it.</summary>
    ModelType,
    /// <summary>No safetensors weights (model.safetensors, or model.safetensors.index.json and its shards).</summary>
    Weights,
    /// <summary>A weight tensor's dtype (F32, F16 and BF16 are read).</summary>
    TensorType,
    /// <summary>A setting of config.json that llama.cpp's architecture cannot express (a rope scaling type, an activation).</summary>
    Setting,
    /// <summary>tokenizer.json: not a byte-level BPE, or a pre-tokenizer that llama.cpp has no name for.</summary>
    Tokenizer,
}

/// <summary>
/// A Hugging Face folder that cannot become a GGUF llama.cpp runs, with what was found and what is supported, so a caller
/// can say both without parsing the message.
/// </summary>
public sealed class UnsupportedModelException(string folder, ModelPart part, string found, IReadOnlyList<string> supported)
    : NotSupportedException($"'{folder}' cannot be exported to GGUF: {Describe(part, found)}; supported: {string.Join(", ", supported)}.")
{
    public string Folder { get; } = folder;
    public ModelPart Part { get; } = part;
    public string Found { get; } = found;
    public IReadOnlyList<string> Supported { get; } = supported;

    private static string Describe(ModelPart part, string found) => part switch
    {
        ModelPart.ModelType => $"model_type '{found}' has no llama.cpp architecture here",
        ModelPart.Weights => $"it has no safetensors weights (found {found})",
        ModelPart.TensorType => $"tensor dtype {found} is not read",
        ModelPart.Setting => $"{found} has no counterpart in llama.cpp",
        ModelPart.Tokenizer => $"its tokenizer ({found}) has no llama.cpp counterpart",
        _ => $"{part} {found}",
    };
}
