namespace CodeLm.Model.Hf;

/// <summary>
/// Where each CodeLm parameter lives in a family's Hugging Face weights: one or more tensors stacked along rows
/// (q, k, v into c_attn; gate and up into c_fc), stored transposed for GPT-2's Conv1D layers.
/// </summary>
public sealed record HfSource(IReadOnlyList<string> Names, bool Transposed = false);

public static class HfWeightNames
{
    /// <summary>The Hugging Face source of every parameter of a model with config <paramref name="c"/>, by CodeLm name.</summary>
    /// <param name="gptPrefix">"transformer." as transformers saves GPT-2 and GPTBigCode; "" for older GPT-2 files without it.</param>
    public static IReadOnlyDictionary<string, HfSource> Map(HfFamily family, GptConfig c, string gptPrefix = "transformer.")
    {
        var map = new Dictionary<string, HfSource>(StringComparer.Ordinal);
        bool llamaLike = family is HfFamily.Llama or HfFamily.Mistral or HfFamily.Qwen2 or HfFamily.Starcoder2;
        void Add(string ours, string theirs, bool has = true, bool transposed = false)
        {
            if (has) map[ours] = new HfSource([theirs], transposed);
        }
        void Stack(string ours, string[] theirs, bool has = true)
        {
            if (has) map[ours] = new HfSource(theirs);
        }

        if (llamaLike)
        {
            Add("wte.weight", "model.embed_tokens.weight");
            for (int i = 0; i < c.Layers; i++)
            {
                string o = $"h.{i}.", t = $"model.layers.{i}.";
                Add(o + "ln_1.weight", t + "input_layernorm.weight");
                Add(o + "ln_1.bias", t + "input_layernorm.bias", c.NormBias);
                Stack(o + "attn.c_attn.weight", [t + "self_attn.q_proj.weight", t + "self_attn.k_proj.weight", t + "self_attn.v_proj.weight"]);
                Stack(o + "attn.c_attn.bias", [t + "self_attn.q_proj.bias", t + "self_attn.k_proj.bias", t + "self_attn.v_proj.bias"], c.QkvBias);
                Add(o + "attn.c_proj.weight", t + "self_attn.o_proj.weight");
                Add(o + "attn.c_proj.bias", t + "self_attn.o_proj.bias", c.ProjectionBias);
                Add(o + "ln_2.weight", t + "post_attention_layernorm.weight");
                Add(o + "ln_2.bias", t + "post_attention_layernorm.bias", c.NormBias);
                if (c.Mlp == MlpKind.SwiGlu)
                {
                    Stack(o + "mlp.c_fc.weight", [t + "mlp.gate_proj.weight", t + "mlp.up_proj.weight"]);
                    Stack(o + "mlp.c_fc.bias", [t + "mlp.gate_proj.bias", t + "mlp.up_proj.bias"], c.MlpBias);
                    Add(o + "mlp.c_proj.weight", t + "mlp.down_proj.weight");
                    Add(o + "mlp.c_proj.bias", t + "mlp.down_proj.bias", c.MlpBias);
                }
                else
                {
                    Add(o + "mlp.c_fc.weight", t + "mlp.c_fc.weight");
                    Add(o + "mlp.c_fc.bias", t + "mlp.c_fc.bias", c.MlpBias);
                    Add(o + "mlp.c_proj.weight", t + "mlp.c_proj.weight");
                    Add(o + "mlp.c_proj.bias", t + "mlp.c_proj.bias", c.MlpBias);
                }
            }
            Add("ln_f.weight", "model.norm.weight");
            Add("ln_f.bias", "model.norm.bias", c.NormBias);
        }
        else
        {
            bool conv = family == HfFamily.Gpt2; // GPT-2's Conv1D keeps weights as [in, out]
            Add("wte.weight", gptPrefix + "wte.weight");
            Add("wpe.weight", gptPrefix + "wpe.weight");
            for (int i = 0; i < c.Layers; i++)
            {
                string o = $"h.{i}.", t = $"{gptPrefix}h.{i}.";
                foreach (var norm in new[] { "ln_1", "ln_2" })
                {
                    Add($"{o}{norm}.weight", $"{t}{norm}.weight");
                    Add($"{o}{norm}.bias", $"{t}{norm}.bias");
                }
                foreach (var layer in new[] { "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj" })
                {
                    Add($"{o}{layer}.weight", $"{t}{layer}.weight", transposed: conv);
                    Add($"{o}{layer}.bias", $"{t}{layer}.bias");
                }
            }
            Add("ln_f.weight", gptPrefix + "ln_f.weight");
            Add("ln_f.bias", gptPrefix + "ln_f.bias");
        }
        Add("lm_head.weight", "lm_head.weight", !c.TiedHead);
        return map;
    }

    /// <summary>Tensors a folder may hold that are not weights: causal-mask and rotary buffers some exports include.</summary>
    public static bool IsIgnorable(string name, GptConfig c) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal)
        || name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (c.TiedHead && name == "lm_head.weight");
}
