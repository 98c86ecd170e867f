using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Causal self-attention through scaled_dot_product_attention, with an optional KV cache. Queries, keys and values come
/// from one fused projection; with fewer key/value heads than query heads (grouped- or multi-query attention) each
/// key/value head serves a group of query heads, and the cache holds only the key/value heads.
/// </summary>
public sealed class CausalSelfAttention : nn.Module
{
    internal nn.Module<Tensor, Tensor> c_attn; // a Linear [(H + 2·KV)·D, E]: q, k, v stacked; inference may swap in cheaper copies (Model/Inference)
    internal nn.Module<Tensor, Tensor> c_proj; // a Linear [E, H·D]: residual projection
    private readonly int _heads, _kvHeads, _headDim, _embedding;
    private readonly RotaryEmbedding? _rotary;

    public CausalSelfAttention(GptConfig config, RotaryEmbedding? rotary = null, ScalarType linearWeights = ScalarType.Float32) : base("attn")
    {
        (_heads, _kvHeads, _headDim, _embedding) = (config.Heads, config.KvHeadCount, config.HeadDim, config.Embedding);
        _rotary = rotary;
        c_attn = nn.Linear(config.Embedding, config.QkvWidth, hasBias: config.QkvBias, dtype: linearWeights);
        c_proj = nn.Linear(config.Heads * config.HeadDim, config.Embedding, hasBias: config.ProjectionBias, dtype: linearWeights);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, KvCache? cache = null, int layer = 0)
    {
        long b = x.shape[0], t = x.shape[1], d = _headDim;
        var qkv = c_attn.forward(x).split([_heads * d, _kvHeads * d, _kvHeads * d], 2);
        var q = qkv[0].view(b, t, _heads, d).transpose(1, 2);
        var k = qkv[1].view(b, t, _kvHeads, d).transpose(1, 2);
        var v = qkv[2].view(b, t, _kvHeads, d).transpose(1, 2);

        int past = cache?.Length ?? 0;
        // Rows of different lengths (a padded cache, one new token each): each row at its own position, and a mask
        // that hides the empty slots before its prompt.
        var step = cache?.NextStep();
        if (step is not null && t != 1) throw new InvalidOperationException("A padded KV cache takes one new token per row.");
        using var positions = step?.Positions;
        using var visible = step?.Visible;
        if (_rotary != null)
            (q, k) = positions is null ? (_rotary.Apply(q, past), _rotary.Apply(k, past)) : (_rotary.Apply(q, positions), _rotary.Apply(k, positions));
        if (cache != null) (k, v) = cache.Append(layer, k, v);
        int group = _heads / _kvHeads;
        if (group > 1 && t == 1 && past > 0)
        {
            // One new token: each key/value head's group of queries attends as rows of one head, so the cache is read as
            // it is rather than copied group-fold every step.
            var grouped = nn.functional.scaled_dot_product_attention(q.view(b, _kvHeads, group, d), k, v, visible);
            return c_proj.forward(grouped.view(b, 1, _heads * d));
        }
        if (group > 1) (k, v) = (k.repeat_interleave(group, 1), v.repeat_interleave(group, 1));

        Tensor y;
        if (past == 0)
            y = nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, t > 1);
        else if (t == 1)
            y = nn.functional.scaled_dot_product_attention(q, k, v, visible); // one new token sees every cached position (of its row)
        else
        {
            // A chunk after a cached prefix: row i may see keys 0..past+i (causal aligned bottom-right).
            using var rows = arange(t, device: x.device).unsqueeze(1);
            using var cols = arange(past + t, device: x.device).unsqueeze(0);
            using var mask = cols.le(rows + past);
            y = nn.functional.scaled_dot_product_attention(q, k, v, mask);
        }
        return c_proj.forward(y.transpose(1, 2).contiguous().view(b, t, _heads * d));
    }
}
