using System.Text.Json;
using System.Text.Json.Serialization;

namespace CodeLm.Model;

/// <summary>
/// Shape of a pre-norm decoder. The defaults are CodeLm's GPT: LayerNorm without bias, learned absolute positions, exact
/// GELU MLP (4x), no linear biases, head tied to the token embedding. The init properties turn it into the other open
/// families (Llama, Mistral, Qwen2, StarCoder2, GPT-2, GPTBigCode: see <see cref="Hf.HfArchitectures"/>), so every family is
/// one model class with a config, not a copy of it. Serialized as config.json in every checkpoint.
/// </summary>
public sealed record GptConfig(int VocabSize, int ContextLength, int Layers, int Heads, int Embedding, double LayerNormEpsilon = 1e-5)
{
    public const string ModelType = "codelm-gpt";

    /// <summary>Key/value heads: fewer than <see cref="Heads"/> is grouped-query attention, 1 is multi-query. 0 means Heads.</summary>
    public int KvHeads { get; init; }
    /// <summary>Width of one head; 0 means Embedding / Heads (Qwen2-style configs may set it).</summary>
    public int HeadDimension { get; init; }
    /// <summary>Width of the MLP's hidden layer; 0 means 4 × Embedding.</summary>
    public int HiddenSize { get; init; }
    public NormKind Norm { get; init; } = NormKind.LayerNorm;
    public bool NormBias { get; init; }
    public PositionKind Positions { get; init; } = PositionKind.Learned;
    public double RopeTheta { get; init; } = 10000;
    /// <summary>Linear RoPE scaling: positions are divided by this factor (CodeLlama-style context extension).</summary>
    public double RopeScale { get; init; } = 1;
    public MlpKind Mlp { get; init; } = MlpKind.Gelu;
    public bool QkvBias { get; init; }
    public bool ProjectionBias { get; init; }
    public bool MlpBias { get; init; }
    public bool TiedHead { get; init; } = true;

    public int KvHeadCount => KvHeads > 0 ? KvHeads : Heads;
    public int HeadDim => HeadDimension > 0 ? HeadDimension : Embedding / Heads;
    public int Hidden => HiddenSize > 0 ? HiddenSize : 4 * Embedding;
    /// <summary>Output rows of the fused q, k, v projection.</summary>
    public int QkvWidth => (Heads + 2 * KvHeadCount) * HeadDim;

    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "small", "gpt2-124m", "350m", "llama-tiny", "llama-small"];

    /// <summary>A named shape. The vocabulary comes from the tokenizer, so presets take it as an argument.</summary>
    public static GptConfig Preset(string name, int vocabSize = 32768) => name switch
    {
        "tiny" => new GptConfig(vocabSize, 256, 4, 4, 128),       // CPU smoke run: minutes
        "small" => new GptConfig(vocabSize, 512, 6, 6, 384),      // ~23M parameters at a 32K vocabulary
        "gpt2-124m" => new GptConfig(vocabSize, 1024, 12, 12, 768),
        "350m" => new GptConfig(vocabSize, 1024, 24, 16, 1024),
        "llama-tiny" => Preset("tiny", vocabSize).AsLlama(),
        "llama-small" => Preset("small", vocabSize).AsLlama(),
        _ => throw new ArgumentException($"Unknown model preset '{name}'. Known presets: {string.Join(", ", PresetNames)}; or pass a config.json path."),
    };

    /// <summary>
    /// The same width and depth with Llama's choices: RMSNorm, rotary positions, SwiGLU. Its hidden width is 8/3 of the
    /// embedding (rounded up to 32), so the MLP keeps GPT's parameter count, and the position table is gone.
    /// </summary>
    public GptConfig AsLlama() => this with
    {
        Norm = NormKind.RmsNorm, Positions = PositionKind.Rotary, Mlp = MlpKind.SwiGlu, HiddenSize = (8 * Embedding / 3 + 31) / 32 * 32,
    };

    /// <summary>Throws with a clear message if the shape is not buildable.</summary>
    public GptConfig Validate()
    {
        if (VocabSize <= 0 || ContextLength <= 0 || Layers <= 0 || Heads <= 0 || Embedding <= 0)
            throw new ArgumentException($"Model config has a non-positive dimension: {this}.");
        if (HeadDimension == 0 && Embedding % Heads != 0)
            throw new ArgumentException($"Model config: embedding {Embedding} is not divisible by heads {Heads}.");
        if (KvHeads < 0 || Heads % KvHeadCount != 0)
            throw new ArgumentException($"Model config: {Heads} heads cannot share {KvHeads} key/value heads evenly.");
        if (Positions == PositionKind.Rotary && HeadDim % 2 != 0)
            throw new ArgumentException($"Model config: rotary positions need an even head width, not {HeadDim}.");
        return this;
    }

    /// <summary>Parameter count (a tied head counted once), with or without the position table.</summary>
    public long ParameterCount(bool includePositions = true)
    {
        long e = Embedding, attnWidth = (long)Heads * HeadDim, mlpIn = Mlp == MlpKind.SwiGlu ? 2L * Hidden : Hidden;
        long norm = NormBias ? 2 * e : e;
        long perLayer = 2 * norm
            + e * QkvWidth + (QkvBias ? QkvWidth : 0) + attnWidth * e + (ProjectionBias ? e : 0)
            + e * mlpIn + (long)Hidden * e + (MlpBias ? mlpIn + e : 0);
        long positions = includePositions && Positions == PositionKind.Learned ? (long)ContextLength * e : 0;
        return (long)VocabSize * e * (TiedHead ? 1 : 2) + positions + Layers * perLayer + norm /* ln_f */;
    }

    /// <summary>Training FLOPs per token: 6N + 12·L·H·Q·T (PaLM appendix B; N excludes the position table).</summary>
    public double FlopsPerToken(int? sequenceLength = null) =>
        6.0 * ParameterCount(includePositions: false) + 12.0 * Layers * Heads * HeadDim * (sequenceLength ?? ContextLength);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    // The architecture fields are written only where they differ from CodeLm's GPT, so GPT configs stay as they were.
    private sealed record Stored(string ModelType, int VocabSize, int ContextLength, int Layers, int Heads, int Embedding, double LayerNormEpsilon,
        int? KvHeads = null, int? HeadDimension = null, int? HiddenSize = null, NormKind? Norm = null, bool? NormBias = null,
        PositionKind? Positions = null, double? RopeTheta = null, double? RopeScale = null, MlpKind? Mlp = null,
        bool? QkvBias = null, bool? ProjectionBias = null, bool? MlpBias = null, bool? TiedHead = null);

    public string ToJson()
    {
        var gpt = new GptConfig(VocabSize, ContextLength, Layers, Heads, Embedding, LayerNormEpsilon);
        T? Diff<T>(T mine, T theirs) where T : struct => EqualityComparer<T>.Default.Equals(mine, theirs) ? null : mine;
        return JsonSerializer.Serialize(new Stored(ModelType, VocabSize, ContextLength, Layers, Heads, Embedding, LayerNormEpsilon,
            Diff(KvHeads, gpt.KvHeads), Diff(HeadDimension, gpt.HeadDimension), Diff(HiddenSize, gpt.HiddenSize), Diff(Norm, gpt.Norm),
            Diff(NormBias, gpt.NormBias), Diff(Positions, gpt.Positions), Diff(RopeTheta, gpt.RopeTheta), Diff(RopeScale, gpt.RopeScale),
            Diff(Mlp, gpt.Mlp), Diff(QkvBias, gpt.QkvBias), Diff(ProjectionBias, gpt.ProjectionBias), Diff(MlpBias, gpt.MlpBias),
            Diff(TiedHead, gpt.TiedHead)), Json);
    }

    public static GptConfig FromJson(string json)
    {
        Stored? s;
        try { s = JsonSerializer.Deserialize<Stored>(json, Json); }
        catch (JsonException e) { throw new InvalidDataException($"Model config is not valid JSON: {e.Message}"); }
        if (s == null || s.ModelType != ModelType)
            throw new InvalidDataException($"Model config has model_type '{s?.ModelType}', expected '{ModelType}'.");
        var c = new GptConfig(s.VocabSize, s.ContextLength, s.Layers, s.Heads, s.Embedding, s.LayerNormEpsilon == 0 ? 1e-5 : s.LayerNormEpsilon);
        return (c with
        {
            KvHeads = s.KvHeads ?? c.KvHeads, HeadDimension = s.HeadDimension ?? c.HeadDimension, HiddenSize = s.HiddenSize ?? c.HiddenSize,
            Norm = s.Norm ?? c.Norm, NormBias = s.NormBias ?? c.NormBias, Positions = s.Positions ?? c.Positions,
            RopeTheta = s.RopeTheta ?? c.RopeTheta, RopeScale = s.RopeScale ?? c.RopeScale, Mlp = s.Mlp ?? c.Mlp,
            QkvBias = s.QkvBias ?? c.QkvBias, ProjectionBias = s.ProjectionBias ?? c.ProjectionBias, MlpBias = s.MlpBias ?? c.MlpBias,
            TiedHead = s.TiedHead ?? c.TiedHead,
        }).Validate();
    }

    /// <summary>A preset name, or a path to a JSON config (the same format as a checkpoint's config.json).</summary>
    public static GptConfig Parse(string presetOrPath, int vocabSize)
    {
        if (File.Exists(presetOrPath)) return FromJson(File.ReadAllText(presetOrPath)) with { VocabSize = vocabSize };
        if (presetOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw new FileNotFoundException($"Model config file '{presetOrPath}' does not exist.");
        return Preset(presetOrPath, vocabSize);
    }
}
