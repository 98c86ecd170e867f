using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>
/// The "model.layers.N" decoders (llama, mistral, qwen2, starcoder2): rope attention with grouped K/V heads, a
/// pre-norm per sub-block. llama and mistral become llama.cpp's "llama" (RMSNorm, SwiGLU; Q/K rows permuted, see
/// <see cref="RopePermutation"/>), qwen2 its "qwen2" (the same plus Q/K/V biases, NeoX rope), starcoder2 its
/// "starcoder2" (LayerNorm with biases, GELU MLP with biases, NeoX rope).
/// </summary>
internal static class LlamaLayout
{
    public static ModelPlan Plan(HfModel m, string arch)
    {
        var c = m.Config;
        // A sliding window is already the context here (HfArchitectures): llama.cpp's architectures attend to all of
        // it, which equals sliding-window attention up to the window.
        var hp = m.CommonHyperparameters();
        hp["rope.freq_base"] = (float)c.RopeTheta;
        hp["rope.dimension_count"] = (uint)c.HeadDim;
        if (c.HeadDimension != 0) // a head width other than embedding / heads
        {
            hp["attention.key_length"] = (uint)c.HeadDim;
            hp["attention.value_length"] = (uint)c.HeadDim;
        }
        if (c.RopeScale != 1)
        {
            hp["rope.scaling.type"] = "linear";
            hp["rope.scaling.factor"] = (float)c.RopeScale;
        }

        bool permute = arch == "llama"; // ggml's "normal" rope; qwen2 and starcoder2 use NeoX's, which is rotate_half
        var map = new TensorMap(m);
        map.Add("model.embed_tokens.weight", "token_embd.weight");
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"model.layers.{i}.", b = $"blk.{i}.";
            map.AddLayer(p + "input_layernorm", b + "attn_norm", c.NormBias);
            map.AddLayer(p + "self_attn.q_proj", b + "attn_q", c.QkvBias, ropeHeads: permute ? c.Heads : null);
            map.AddLayer(p + "self_attn.k_proj", b + "attn_k", c.QkvBias, ropeHeads: permute ? c.KvHeadCount : null);
            map.AddLayer(p + "self_attn.v_proj", b + "attn_v", c.QkvBias);
            map.AddLayer(p + "self_attn.o_proj", b + "attn_output", c.ProjectionBias);
            map.AddLayer(p + "post_attention_layernorm", b + "ffn_norm", c.NormBias);
            if (c.Mlp == MlpKind.SwiGlu)
            {
                map.AddLayer(p + "mlp.gate_proj", b + "ffn_gate", c.MlpBias);
                map.AddLayer(p + "mlp.up_proj", b + "ffn_up", c.MlpBias);
                map.AddLayer(p + "mlp.down_proj", b + "ffn_down", c.MlpBias);
            }
            else
            {
                map.AddLayer(p + "mlp.c_fc", b + "ffn_up", c.MlpBias);
                map.AddLayer(p + "mlp.c_proj", b + "ffn_down", c.MlpBias);
            }
        }
        map.AddLayer("model.norm", "output_norm", c.NormBias);
        if (!c.TiedHead) map.Add("lm_head.weight", "output.weight"); // tied: llama.cpp reuses token_embd
        return map.Finish(arch, hp);
    }
}
