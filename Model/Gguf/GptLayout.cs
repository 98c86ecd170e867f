using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>
/// The "transformer.h.N" decoders with learned positions, LayerNorm and a fused QKV projection: gpt2 becomes
/// llama.cpp's "gpt2", gpt_bigcode (SantaCoder, StarCoder 1) its "starcoder". GPT-2 keeps its projections as Conv1D
/// ([in, out]), so they are transposed; GPTBigCode's are Linear already. Multi-query GPTBigCode has one K/V head.
/// </summary>
internal static class GptLayout
{
    /// <summary>ggml's GELU is the tanh approximation; the exact erf GELU differs from it by under 1e-3 and is accepted too.</summary>
    private static readonly string[] Activations = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu"];

    public static ModelPlan Plan(HfFolder f, string arch)
    {
        bool conv1d = arch == "gpt2";
        int e = f.Int("n_embd"), layers = f.Int("n_layer"), heads = f.Int("n_head");
        var act = f.StringOr("activation_function") ?? "gelu_new";
        if (!Activations.Contains(act)) throw UnsupportedModelException.ForGguf(f.Path, ModelPart.Setting, $"activation_function {act}", Activations);
        foreach (var flag in new[] { "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn" })
            if (f.BoolOr(flag) == true) throw UnsupportedModelException.ForGguf(f.Path, ModelPart.Setting, flag + " true", [flag + " false"]);
        if (f.BoolOr("scale_attn_weights") == false) throw UnsupportedModelException.ForGguf(f.Path, ModelPart.Setting, "scale_attn_weights false", ["scale_attn_weights true"]);

        int kvHeads = arch == "starcoder" && (f.BoolOr("multi_query") ?? true) ? 1 : heads;
        var hp = new Dictionary<string, object>
        {
            ["context_length"] = (uint)f.Int("n_positions"),
            ["embedding_length"] = (uint)e,
            ["block_count"] = (uint)layers,
            ["feed_forward_length"] = (uint)(f.IntOr("n_inner") ?? 4 * e),
            ["attention.head_count"] = (uint)heads,
            ["attention.head_count_kv"] = (uint)kvHeads,
            ["attention.layer_norm_epsilon"] = (float)f.Number("layer_norm_epsilon"),
        };

        // Older GPT-2 checkpoints have no "transformer." prefix.
        string root = f.Has("transformer.wte.weight") ? "transformer." : "";
        var map = new TensorMap(f);
        map.Add(root + "wte.weight", "token_embd.weight");
        map.Add(root + "wpe.weight", "position_embd.weight");
        for (int i = 0; i < layers; i++)
        {
            string p = $"{root}h.{i}.", b = $"blk.{i}.";
            map.AddWithBias(p + "ln_1", b + "attn_norm");
            map.AddWithBias(p + "attn.c_attn", b + "attn_qkv", conv1d);
            map.AddWithBias(p + "attn.c_proj", b + "attn_output", conv1d);
            map.AddWithBias(p + "ln_2", b + "ffn_norm");
            map.AddWithBias(p + "mlp.c_fc", b + "ffn_up", conv1d);
            map.AddWithBias(p + "mlp.c_proj", b + "ffn_down", conv1d);
        }
        map.AddWithBias(root + "ln_f", "output_norm");
        map.AddOptional("lm_head.weight", "output.weight"); // absent when tied: llama.cpp then reuses token_embd
        map.Ignore(n => n.EndsWith(".attn.bias", StringComparison.Ordinal) && f.Shape(n).Length > 1 || n.EndsWith(".attn.masked_bias", StringComparison.Ordinal));
        return new ModelPlan(arch, hp, (int)f.Shape(root + "wte.weight")[0], map.Finish());
    }
}
