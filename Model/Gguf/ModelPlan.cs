using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>A Hugging Face folder as the converter takes it: its family and config as <see cref="HfArchitectures"/> reads them, and its weights.</summary>
internal sealed record HfModel(string Folder, HfFamily Family, GptConfig Config, SafeTensorsIndex Weights)
{
    /// <summary>The hyperparameters every llama.cpp architecture here reads, from the config.</summary>
    public Dictionary<string, object> CommonHyperparameters() => new()
    {
        ["context_length"] = (uint)Config.ContextLength,
        ["embedding_length"] = (uint)Config.Embedding,
        ["block_count"] = (uint)Config.Layers,
        ["feed_forward_length"] = (uint)Config.Hidden,
        ["attention.head_count"] = (uint)Config.Heads,
        ["attention.head_count_kv"] = (uint)Config.KvHeadCount,
        [Config.Norm == NormKind.RmsNorm ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon"] = (float)Config.LayerNormEpsilon,
    };
}

/// <summary>
/// What one model becomes in GGUF: llama.cpp's architecture name, its hyperparameter keys (without the
/// "{arch}." prefix; values are uint, float or string), the number of embedding rows (the vocabulary llama.cpp will
/// expect), and the tensors under llama.cpp's names with where their values come from.
/// </summary>
internal sealed record ModelPlan(string Arch, IReadOnlyDictionary<string, object> Hyperparameters, int VocabRows, IReadOnlyList<TensorPlan> Tensors);

/// <summary>One GGUF tensor: its llama.cpp name, row-major shape and values (read when written).</summary>
internal sealed record TensorPlan(string Name, long[] Shape, Func<float[]> Data)
{
    /// <summary>
    /// Norm weights, biases and other 1-D tensors stay F32 under F16 and Q8_0, as llama.cpp's converter keeps them:
    /// ggml adds and multiplies them in F32 anyway, and they are a rounding error of the file's size. So do learned
    /// position embeddings, which llama.cpp's converter and its quantizer both always leave in F32.
    /// </summary>
    public bool KeepF32 => Shape.Length == 1 || Name == "position_embd.weight";

    /// <summary>
    /// The type this tensor is stored as when the file's type is <paramref name="type"/>. A Q8_0 row must be whole
    /// blocks of 32; a matrix whose rows are not falls back to F16, as gguf-py's quantizer does.
    /// </summary>
    public GgufType StoredAs(GgufType type) =>
        KeepF32 ? GgufType.F32
        : type == GgufType.Q8_0 && Shape[^1] % Q8_0.BlockSize != 0 ? GgufType.F16
        : type;
}
