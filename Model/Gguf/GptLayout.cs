using CodeLm.Model.Hf;
namespace CodeLm.Model.Gguf;

/// <summary>
/// The "transformer.h.N" decoders with learned positions, LayerNorm and a fused QKV projection: gpt2 becomes
/// llama.cpp's "gpt2", gpt_bigcode (SantaCoder, StarCoder 1) its "starcoder". GPT-2 keeps its projections as Conv1D
/// ([in, out]), so they are transposed; GPTBigCode's are Linear already. Multi-query GPTBigCode has one K/V head.
/// ggml's GELU is the tanh form; an exact-erf GELU model differs from it by under 1e-3 and is written all the same.
/// </summary>
internal static class GptLayout
{
    public static ModelPlan Plan(HfModel m, string arch)
    {
        var c = m.Config;
        var hp = m.CommonHyperparameters();

        bool conv1d = m.Family == HfFamily.Gpt2;
        // Older GPT-2 checkpoints (openai-community/gpt2 among them) have no "transformer." prefix.
        string root = m.Weights.Contains("transformer.wte.weight") ? "transformer." : "";
        var map = new TensorMap(m);
        map.Add(root + "wte.weight", "token_embd.weight");
        map.Add(root + "wpe.weight", "position_embd.weight");
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"{root}h.{i}.", b = $"blk.{i}.";
            map.AddLayer(p + "ln_1", b + "attn_norm", c.NormBias);
            map.AddLayer(p + "attn.c_attn", b + "attn_qkv", c.QkvBias, conv1d);
            map.AddLayer(p + "attn.c_proj", b + "attn_output", c.ProjectionBias, conv1d);
            map.AddLayer(p + "ln_2", b + "ffn_norm", c.NormBias);
            map.AddLayer(p + "mlp.c_fc", b + "ffn_up", c.MlpBias, conv1d);
            map.AddLayer(p + "mlp.c_proj", b + "ffn_down", c.MlpBias, conv1d);
        }
        map.AddLayer(root + "ln_f", "output_norm", c.NormBias);
        if (!c.TiedHead) map.Add("lm_head.weight", "output.weight"); // tied: llama.cpp reuses token_embd
        return map.Finish(arch, hp);
    }
}
