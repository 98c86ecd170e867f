using System.Text.Json.Nodes;

namespace CodeLm.Model.Hf;

/// <summary>
/// The transformers config.json for a CodeLm model, in the family whose choices it makes: Llama-style presets become
/// LlamaForCausalLM, CodeLm's GPT stays GPT2LMHeadModel, and a model read from a folder goes back as that folder's family.
/// </summary>
public static class HfConfigWriter
{
    /// <summary>The family whose architecture is exactly <paramref name="c"/>'s.</summary>
    public static HfFamily FamilyFor(GptConfig c)
    {
        if (c.Positions == PositionKind.Learned && c.Norm == NormKind.LayerNorm && c.Mlp != MlpKind.SwiGlu && c.TiedHead)
            return c.KvHeadCount == 1 && c.Heads > 1 ? HfFamily.GptBigCode : c.KvHeadCount == c.Heads ? HfFamily.Gpt2 : Unsupported(c);
        if (c.Positions != PositionKind.Rotary) return Unsupported(c);
        if (c.Norm == NormKind.RmsNorm && c.Mlp == MlpKind.SwiGlu)
            return c.QkvBias && !c.ProjectionBias && !c.MlpBias ? HfFamily.Qwen2 : c.QkvBias == c.ProjectionBias ? HfFamily.Llama : Unsupported(c);
        if (c.Norm == NormKind.LayerNorm && c.Mlp == MlpKind.GeluTanh && c.QkvBias == c.ProjectionBias && c.ProjectionBias == c.MlpBias)
            return HfFamily.Starcoder2;
        return Unsupported(c);
    }

    public static JsonObject Write(HfFamily family, GptConfig c, int bos, int eos, string dtype)
    {
        var j = family switch
        {
            HfFamily.Llama or HfFamily.Mistral or HfFamily.Qwen2 => Llama(family, c),
            HfFamily.Starcoder2 => Starcoder2(c),
            _ => Gpt2(family, c),
        };
        j["bos_token_id"] = bos;
        j["eos_token_id"] = eos;
        j["torch_dtype"] = dtype;
        return j;
    }

    private static JsonObject Llama(HfFamily family, GptConfig c)
    {
        var j = new JsonObject
        {
            ["architectures"] = new JsonArray(family switch { HfFamily.Qwen2 => "Qwen2ForCausalLM", HfFamily.Mistral => "MistralForCausalLM", _ => "LlamaForCausalLM" }),
            ["model_type"] = family switch { HfFamily.Qwen2 => "qwen2", HfFamily.Mistral => "mistral", _ => "llama" },
            ["vocab_size"] = c.VocabSize, ["hidden_size"] = c.Embedding, ["intermediate_size"] = c.Hidden,
            ["num_hidden_layers"] = c.Layers, ["num_attention_heads"] = c.Heads, ["num_key_value_heads"] = c.KvHeadCount,
            ["head_dim"] = c.HeadDim, ["max_position_embeddings"] = c.ContextLength, ["rms_norm_eps"] = c.LayerNormEpsilon,
            ["rope_theta"] = c.RopeTheta, ["hidden_act"] = "silu", ["tie_word_embeddings"] = c.TiedHead,
        };
        if (family == HfFamily.Llama) { j["attention_bias"] = c.QkvBias; j["mlp_bias"] = c.MlpBias; }
        if (family == HfFamily.Mistral) j["sliding_window"] = null;
        if (c.RopeScale != 1) j["rope_scaling"] = new JsonObject { ["type"] = "linear", ["rope_type"] = "linear", ["factor"] = c.RopeScale };
        return j;
    }

    private static JsonObject Starcoder2(GptConfig c)
    {
        var j = new JsonObject
        {
            ["architectures"] = new JsonArray("Starcoder2ForCausalLM"), ["model_type"] = "starcoder2",
            ["vocab_size"] = c.VocabSize, ["hidden_size"] = c.Embedding, ["intermediate_size"] = c.Hidden,
            ["num_hidden_layers"] = c.Layers, ["num_attention_heads"] = c.Heads, ["num_key_value_heads"] = c.KvHeadCount,
            ["max_position_embeddings"] = c.ContextLength, ["norm_epsilon"] = c.LayerNormEpsilon, ["rope_theta"] = c.RopeTheta,
            ["hidden_act"] = "gelu_pytorch_tanh", ["use_bias"] = c.MlpBias, ["sliding_window"] = null, ["tie_word_embeddings"] = c.TiedHead,
        };
        if (c.RopeScale != 1) j["rope_scaling"] = new JsonObject { ["type"] = "linear", ["rope_type"] = "linear", ["factor"] = c.RopeScale };
        return j;
    }

    private static JsonObject Gpt2(HfFamily family, GptConfig c)
    {
        var j = new JsonObject
        {
        ["architectures"] = new JsonArray(family == HfFamily.GptBigCode ? "GPTBigCodeForCausalLM" : "GPT2LMHeadModel"),
        ["model_type"] = family == HfFamily.GptBigCode ? "gpt_bigcode" : "gpt2",
        ["vocab_size"] = c.VocabSize, ["n_positions"] = c.ContextLength, ["n_ctx"] = c.ContextLength, ["n_embd"] = c.Embedding,
        ["n_layer"] = c.Layers, ["n_head"] = c.Heads, ["n_inner"] = c.Hidden,
        ["activation_function"] = c.Mlp == MlpKind.Gelu ? "gelu" : family == HfFamily.GptBigCode ? "gelu_pytorch_tanh" : "gelu_new",
        ["layer_norm_epsilon"] = c.LayerNormEpsilon,
        ["resid_pdrop"] = 0.0, ["embd_pdrop"] = 0.0, ["attn_pdrop"] = 0.0, ["scale_attn_weights"] = true, ["tie_word_embeddings"] = true,
        };
        if (family == HfFamily.GptBigCode) j["multi_query"] = true;
        return j;
    }

    private static HfFamily Unsupported(GptConfig c) =>
        throw new UnsupportedModelException("checkpoint", ModelPart.Setting,
            $"an architecture (norm {c.Norm}, positions {c.Positions}, MLP {c.Mlp}, {c.KvHeadCount} of {c.Heads} key/value heads, biases q/k/v {c.QkvBias}, projection {c.ProjectionBias}, MLP {c.MlpBias}) with no Hugging Face family",
            HfArchitectures.SupportedModelTypes, "exported to Hugging Face");
}
