using System.Text.Json;
using System.Text.Json.Serialization;

namespace CodeLm.Model;

/// <summary>
/// Shape of a GPT: decoder-only, pre-norm LayerNorm (no bias), learned absolute positions, GELU MLP (4x),
/// no linear biases, token embedding tied to the output head. Serialized as config.json in every checkpoint.
/// </summary>
public sealed record GptConfig(int VocabSize, int ContextLength, int Layers, int Heads, int Embedding, double LayerNormEpsilon = 1e-5)
{
    public const string ModelType = "codelm-gpt";

    public int HeadDim => Embedding / Heads;
    public int Hidden => 4 * Embedding;

    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "small", "gpt2-124m", "350m"];

    /// <summary>A named shape. The vocabulary comes from the tokenizer, so presets take it as an argument.</summary>
    public static GptConfig Preset(string name, int vocabSize = 32768) => name switch
    {
        "tiny" => new GptConfig(vocabSize, 256, 4, 4, 128),       // CPU smoke run: minutes
        "small" => new GptConfig(vocabSize, 512, 6, 6, 384),      // ~23M parameters at a 32K vocabulary
        "gpt2-124m" => new GptConfig(vocabSize, 1024, 12, 12, 768),
        "350m" => new GptConfig(vocabSize, 1024, 24, 16, 1024),
        _ => throw new ArgumentException($"Unknown model preset '{name}'. Known presets: {string.Join(", ", PresetNames)}; or pass a config.json path."),
    };

    /// <summary>Throws with a clear message if the shape is not buildable.</summary>
    public GptConfig Validate()
    {
        if (VocabSize <= 0 || ContextLength <= 0 || Layers <= 0 || Heads <= 0 || Embedding <= 0)
            throw new ArgumentException($"Model config has a non-positive dimension: {this}.");
        if (Embedding % Heads != 0)
            throw new ArgumentException($"Model config: embedding {Embedding} is not divisible by heads {Heads}.");
        return this;
    }

    /// <summary>Parameter count (tied head counted once), with or without the position table.</summary>
    public long ParameterCount(bool includePositions = true)
    {
        long e = Embedding;
        long perLayer = 2 * e /* ln */ + e * 3 * e + e * e + e * 4 * e + 4 * e * e;
        return (long)VocabSize * e + (includePositions ? (long)ContextLength * e : 0) + Layers * perLayer + e /* ln_f */;
    }

    /// <summary>Training FLOPs per token: 6N + 12·L·H·Q·T (PaLM appendix B; N excludes the position table).</summary>
    public double FlopsPerToken(int? sequenceLength = null) =>
        6.0 * ParameterCount(includePositions: false) + 12.0 * Layers * Heads * HeadDim * (sequenceLength ?? ContextLength);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    private sealed record Stored(string ModelType, int VocabSize, int ContextLength, int Layers, int Heads, int Embedding, double LayerNormEpsilon);

    public string ToJson() => JsonSerializer.Serialize(new Stored(ModelType, VocabSize, ContextLength, Layers, Heads, Embedding, LayerNormEpsilon), Json);

    public static GptConfig FromJson(string json)
    {
        Stored? s;
        try { s = JsonSerializer.Deserialize<Stored>(json, Json); }
        catch (JsonException e) { throw new InvalidDataException($"Model config is not valid JSON: {e.Message}"); }
        if (s == null || s.ModelType != ModelType)
            throw new InvalidDataException($"Model config has model_type '{s?.ModelType}', expected '{ModelType}'.");
        return new GptConfig(s.VocabSize, s.ContextLength, s.Layers, s.Heads, s.Embedding, s.LayerNormEpsilon == 0 ? 1e-5 : s.LayerNormEpsilon).Validate();
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
