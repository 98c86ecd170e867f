using CodeLm.Model.Hf;
using System.Text.Json.Nodes;

namespace CodeLm.Model.Gguf;

/// <summary>
/// The "model.layers.N" decoders (llama, mistral, qwen2, starcoder2): rope attention with grouped K/V heads, a
/// pre-norm per sub-block. llama and mistral become llama.cpp's "llama" (RMSNorm, SwiGLU; Q/K rows permuted, see
/// <see cref="RopePermutation"/>), qwen2 its "qwen2" (the same plus Q/K/V biases, NeoX rope), starcoder2 its
/// "starcoder2" (LayerNorm with biases, GELU MLP with biases, NeoX rope).
/// </summary>
internal static class LlamaLayout
{
    public static ModelPlan Plan(HfFolder f, string arch)
    {
        bool layerNorm = arch == "starcoder2";
        int e = f.Int("hidden_size"), layers = f.Int("num_hidden_layers"), heads = f.Int("num_attention_heads");
        int kvHeads = f.IntOr("num_key_value_heads") ?? heads;
        int headDim = f.IntOr("head_dim") ?? e / heads;
        var act = f.StringOr("hidden_act") ?? (layerNorm ? "gelu_pytorch_tanh" : "silu");
        string[] acts = layerNorm ? ["gelu_pytorch_tanh", "gelu_new", "gelu"] : ["silu"];
        if (!acts.Contains(act)) throw UnsupportedModelException.ForGguf(f.Path, ModelPart.Setting, $"hidden_act {act} for {f.ModelType}", acts);

        var hp = new Dictionary<string, object>
        {
            ["context_length"] = (uint)f.Int("max_position_embeddings"),
            ["embedding_length"] = (uint)e,
            ["block_count"] = (uint)layers,
            ["feed_forward_length"] = (uint)f.Int("intermediate_size"),
            ["attention.head_count"] = (uint)heads,
            ["attention.head_count_kv"] = (uint)kvHeads,
            ["rope.freq_base"] = (float)(f.NumberOr("rope_theta") ?? 10000.0),
            ["rope.dimension_count"] = (uint)headDim,
        };
        if (layerNorm) hp["attention.layer_norm_epsilon"] = (float)(f.NumberOr("norm_epsilon") ?? f.Number("layer_norm_eps"));
        else hp["attention.layer_norm_rms_epsilon"] = (float)f.Number("rms_norm_eps");
        if (headDim != e / heads)
        {
            hp["attention.key_length"] = (uint)headDim;
            hp["attention.value_length"] = (uint)headDim;
        }
        AddRopeScaling(f, hp);
        // mistral's sliding_window is not carried: llama.cpp's "llama" architecture attends to the whole context, as its
        // own converter's output does; the two agree on sequences no longer than the window.

        bool permute = arch == "llama";
        var map = new TensorMap(f);
        map.Add("model.embed_tokens.weight", "token_embd.weight");
        for (int i = 0; i < layers; i++)
        {
            string p = $"model.layers.{i}.", b = $"blk.{i}.";
            map.AddWithBias(p + "input_layernorm", b + "attn_norm");
            map.AddWithBias(p + "self_attn.q_proj", b + "attn_q", ropeHeads: permute ? heads : null);
            map.AddWithBias(p + "self_attn.k_proj", b + "attn_k", ropeHeads: permute ? kvHeads : null);
            map.AddWithBias(p + "self_attn.v_proj", b + "attn_v");
            map.AddWithBias(p + "self_attn.o_proj", b + "attn_output");
            map.AddWithBias(p + "post_attention_layernorm", b + "ffn_norm");
            if (layerNorm)
            {
                map.AddWithBias(p + "mlp.c_fc", b + "ffn_up");
                map.AddWithBias(p + "mlp.c_proj", b + "ffn_down");
            }
            else
            {
                map.AddWithBias(p + "mlp.gate_proj", b + "ffn_gate");
                map.AddWithBias(p + "mlp.up_proj", b + "ffn_up");
                map.AddWithBias(p + "mlp.down_proj", b + "ffn_down");
            }
        }
        map.AddWithBias("model.norm", "output_norm");
        map.AddOptional("lm_head.weight", "output.weight"); // absent when tied: llama.cpp then reuses token_embd
        map.Ignore(n => n.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal));
        return new ModelPlan(arch, hp, (int)f.Shape("model.embed_tokens.weight")[0], map.Finish());
    }

    private static void AddRopeScaling(HfFolder f, Dictionary<string, object> hp)
    {
        if (f.Config["rope_scaling"] is not JsonObject rs) return;
        var type = (rs["type"] ?? rs["rope_type"])?.GetValue<string>() ?? "?";
        if (type == "default") return;
        if (type != "linear") throw UnsupportedModelException.ForGguf(f.Path, ModelPart.Setting, $"rope_scaling type {type}", ["none", "linear"]);
        hp["rope.scaling.type"] = "linear";
        hp["rope.scaling.factor"] = (float)rs["factor"]!.GetValue<double>();
    }
}
