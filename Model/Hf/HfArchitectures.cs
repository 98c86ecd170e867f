using System.Text.Json.Nodes;

namespace CodeLm.Model.Hf;

/// <summary>
/// Reads a Hugging Face config.json into a <see cref="GptConfig"/>, and writes one back. Each family is a set of
/// choices on the one model (norm, positions, MLP, key/value heads, biases, tied head), following the transformers
/// defaults where config.json leaves a field out.
/// </summary>
public static class HfArchitectures
{
    private static readonly Dictionary<string, HfFamily> ModelTypes = new(StringComparer.Ordinal)
    {
        ["llama"] = HfFamily.Llama, ["mistral"] = HfFamily.Mistral, ["qwen2"] = HfFamily.Qwen2,
        ["starcoder2"] = HfFamily.Starcoder2, ["gpt2"] = HfFamily.Gpt2, ["gpt_bigcode"] = HfFamily.GptBigCode,
    };

    public static IReadOnlyList<string> SupportedModelTypes => [.. ModelTypes.Keys];
    public static string Supported => string.Join(", ", ModelTypes.Keys);

    public static HfFamily FamilyOf(JsonObject config, string where)
    {
        var type = config["model_type"]?.GetValue<string>();
        if (type != null && ModelTypes.TryGetValue(type, out var family)) return family;
        var arch = config["architectures"]?.AsArray().FirstOrDefault()?.GetValue<string>();
        throw new UnsupportedModelException(where, ModelPart.ModelType, $"{type ?? "(none)"}{(arch != null ? $" ({arch})" : "")}", SupportedModelTypes);
    }

    public static (HfFamily Family, GptConfig Config) Read(JsonObject j, string where)
    {
        var family = FamilyOf(j, where);
        int I(string key, int? fallback = null) => j[key]?.GetValue<int>() ?? fallback
            ?? throw new UnsupportedModelException(where, ModelPart.Setting, $"config.json without '{key}'", [$"config.json with '{key}'"]);
        double D(string key, double fallback) => j[key]?.GetValue<double>() ?? fallback;
        bool B(string key, bool fallback) => j[key]?.GetValue<bool>() ?? fallback;
        string S(string key, string fallback) => j[key]?.GetValue<string>() ?? fallback;

        GptConfig c;
        switch (family)
        {
            case HfFamily.Llama or HfFamily.Mistral or HfFamily.Qwen2:
                Require(S("hidden_act", "silu") == "silu", where, $"hidden_act {S("hidden_act", "")}", "hidden_act silu");
                bool attentionBias = family == HfFamily.Qwen2 || B("attention_bias", false);
                c = new GptConfig(I("vocab_size"), Window(j, family, I("max_position_embeddings")), I("num_hidden_layers"),
                    I("num_attention_heads"), I("hidden_size"), D("rms_norm_eps", 1e-6))
                {
                    KvHeads = I("num_key_value_heads", I("num_attention_heads")), HeadDimension = HeadDim(j),
                    HiddenSize = I("intermediate_size"), Norm = NormKind.RmsNorm, Positions = PositionKind.Rotary,
                    RopeTheta = D("rope_theta", 10000), RopeScale = LinearRopeScale(j, where), Mlp = MlpKind.SwiGlu,
                    QkvBias = attentionBias, ProjectionBias = family != HfFamily.Qwen2 && attentionBias, MlpBias = B("mlp_bias", false),
                    TiedHead = B("tie_word_embeddings", false),
                };
                break;
            case HfFamily.Starcoder2:
                bool bias = B("use_bias", true);
                c = new GptConfig(I("vocab_size"), Window(j, family, I("max_position_embeddings")), I("num_hidden_layers"),
                    I("num_attention_heads"), I("hidden_size"), D("norm_epsilon", 1e-5))
                {
                    KvHeads = I("num_key_value_heads", I("num_attention_heads")), HiddenSize = I("intermediate_size"),
                    NormBias = true, Positions = PositionKind.Rotary, RopeTheta = D("rope_theta", 10000), RopeScale = LinearRopeScale(j, where),
                    Mlp = Activation(S("hidden_act", "gelu_pytorch_tanh"), where), QkvBias = bias, ProjectionBias = bias, MlpBias = bias,
                    TiedHead = B("tie_word_embeddings", true),
                };
                break;
            default: // GPT-2 and GPTBigCode: learned positions, biases everywhere, tied head
                // Attention here is always scaled by 1/sqrt(head width), per layer alike, in the input's precision.
                Require(!B("scale_attn_by_inverse_layer_idx", false) && !B("reorder_and_upcast_attn", false) && B("scale_attn_weights", true), where,
                    "scale_attn_by_inverse_layer_idx or reorder_and_upcast_attn true, or scale_attn_weights false",
                    "scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn false, scale_attn_weights true");
                int e = I("n_embd");
                c = new GptConfig(I("vocab_size"), I("n_positions"), I("n_layer"), I("n_head"), e, D("layer_norm_epsilon", 1e-5))
                {
                    KvHeads = family == HfFamily.GptBigCode && B("multi_query", true) ? 1 : 0, HiddenSize = I("n_inner", 4 * e),
                    NormBias = true, Mlp = Activation(S("activation_function", "gelu_new"), where),
                    QkvBias = true, ProjectionBias = true, MlpBias = true, TiedHead = true,
                };
                break;
        }
        return (family, c.Validate());
    }

    private static int HeadDim(JsonObject j) => j["head_dim"]?.GetValue<int>() is int d && d != j["hidden_size"]!.GetValue<int>() / j["num_attention_heads"]!.GetValue<int>() ? d : 0;

    // Sliding-window attention equals full attention up to the window, so the window becomes the usable context.
    private static int Window(JsonObject j, HfFamily family, int context)
    {
        bool slides = family switch
        {
            HfFamily.Qwen2 => j["use_sliding_window"]?.GetValue<bool>() ?? false,
            _ => j["sliding_window"] is JsonValue,
        };
        return slides && j["sliding_window"]?.GetValue<int>() is int w && w < context ? w : context;
    }

    private static double LinearRopeScale(JsonObject j, string where)
    {
        if (j["rope_scaling"] is not JsonObject s) return 1;
        var type = (s["rope_type"] ?? s["type"])?.GetValue<string>();
        Require(type is "linear" or "default", where, $"rope_scaling type {type}", "none", "linear");
        return type == "linear" ? s["factor"]!.GetValue<double>() : 1;
    }

    private static MlpKind Activation(string name, string where) => name switch
    {
        "gelu" => MlpKind.Gelu,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => MlpKind.GeluTanh,
        _ => throw new UnsupportedModelException(where, ModelPart.Setting, $"activation {name}", ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast"]),
    };

    private static void Require(bool ok, string where, string found, params string[] supported)
    {
        if (!ok) throw new UnsupportedModelException(where, ModelPart.Setting, found, supported);
    }
}
