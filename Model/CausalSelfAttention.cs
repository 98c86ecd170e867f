using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>Multi-head causal self-attention through scaled_dot_product_attention, with an optional KV cache.</summary>
public sealed class CausalSelfAttention : nn.Module
{
    internal nn.Module<Tensor, Tensor> c_attn; // a Linear [3E, E]: q, k, v stacked; inference may swap in cheaper copies (Model/Inference)
    internal nn.Module<Tensor, Tensor> c_proj; // a Linear [E, E]: residual projection
    private readonly int _heads, _embedding;

    public CausalSelfAttention(GptConfig config) : base("attn")
    {
        _heads = config.Heads;
        _embedding = config.Embedding;
        c_attn = nn.Linear(config.Embedding, 3 * config.Embedding, hasBias: false);
        c_proj = nn.Linear(config.Embedding, config.Embedding, hasBias: false);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, KvCache? cache = null, int layer = 0)
    {
        long b = x.shape[0], t = x.shape[1], d = _embedding / _heads;
        var qkv = c_attn.forward(x).split(_embedding, 2);
        var q = qkv[0].view(b, t, _heads, d).transpose(1, 2);
        var k = qkv[1].view(b, t, _heads, d).transpose(1, 2);
        var v = qkv[2].view(b, t, _heads, d).transpose(1, 2);

        int past = cache?.Length ?? 0;
        if (cache != null) (k, v) = cache.Append(layer, k, v);

        Tensor y;
        if (past == 0)
            y = nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, t > 1);
        else if (t == 1)
            y = nn.functional.scaled_dot_product_attention(q, k, v); // one new token sees every cached position
        else
        {
            // A chunk after a cached prefix: row i may see keys 0..past+i (causal aligned bottom-right).
            using var rows = arange(t, device: x.device).unsqueeze(1);
            using var cols = arange(past + t, device: x.device).unsqueeze(0);
            using var mask = cols.le(rows + past);
            y = nn.functional.scaled_dot_product_attention(q, k, v, mask);
        }
        return c_proj.forward(y.transpose(1, 2).contiguous().view(b, t, _embedding));
    }
}
