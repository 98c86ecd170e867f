using CodeLm.Tests;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests;

public class GptTests
{
    private static readonly GptConfig Small = new(VocabSize: 50, ContextLength: 32, Layers: 2, Heads: 2, Embedding: 16);

    [Fact]
    public void Parameter_count_matches_config_formula_and_init_scales_residual_projections()
    {
        Torch.Init();
        manual_seed(1);
        using var model = new Gpt(Small);
        Assert.Equal(Small.ParameterCount(), model.ParameterCount());
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(1.0, named["h.0.ln_1.weight"].mean().item<float>(), 6);
        double projStd = named["h.1.mlp.c_proj.weight"].std().item<float>();
        double fcStd = named["h.1.mlp.c_fc.weight"].std().item<float>();
        Assert.InRange(fcStd, 0.018, 0.022);
        Assert.InRange(projStd, 0.01 * 0.8, 0.01 * 1.2); // 0.02 / sqrt(2*2)
        Assert.DoesNotContain(named.Keys, k => k.EndsWith(".bias", StringComparison.Ordinal));
    }

    [Fact]
    public void Kv_cache_prefill_steps_and_chunks_match_full_forward()
    {
        Torch.Init();
        manual_seed(2);
        using var model = new Gpt(Small);
        model.eval();
        using var _ = no_grad();
        using var tokens = randint(0, Small.VocabSize, [2, 20], dtype: ScalarType.Int64);
        using var full = model.forward(tokens);
        using var cache = new KvCache(Small, batch: 2, capacity: 20, CPU);
        var prefill = model.forward(tokens[.., ..8], cache);
        Assert.True(prefill.allclose(full[.., ..8], atol: 1e-5));
        for (int i = 8; i < 14; i++)
        {
            var step = model.forward(tokens[.., i..(i + 1)], cache, lastOnly: true);
            Assert.True(step[.., 0].allclose(full[.., i], atol: 1e-5), $"step {i}");
        }
        var chunk = model.forward(tokens[.., 14..], cache); // a multi-token chunk after a cached prefix
        Assert.True(chunk.allclose(full[.., 14..], atol: 1e-5));
        Assert.Equal(20, cache.Length);
    }

    [Fact]
    public void Kv_cache_rows_can_be_repeated_and_dropped()
    {
        Torch.Init();
        manual_seed(3);
        using var model = new Gpt(Small);
        model.eval();
        using var _ = no_grad();
        using var prompt = randint(0, Small.VocabSize, [1, 6], dtype: ScalarType.Int64);
        using var cache = new KvCache(Small, 1, 16, CPU);
        model.forward(prompt, cache, lastOnly: true);
        cache.SelectRows(zeros(3, dtype: ScalarType.Int64));
        using var next = tensor(new long[] { 1, 2, 3 }).view(3, 1);
        var logits = model.forward(next, cache, lastOnly: true);
        for (int r = 0; r < 3; r++)
        {
            var expected = model.forward(cat([prompt, next[r..(r + 1)]], 1))[.., ^1];
            Assert.True(logits[r].allclose(expected[0], atol: 1e-5));
        }
        cache.SelectRows(tensor(new long[] { 0, 2 }));
        Assert.Equal(2, cache.Batch);
    }

    [Fact]
    public void Checkpoint_round_trip_restores_identical_logits()
    {
        Torch.Init();
        manual_seed(4);
        using var dir = new TempDir();
        using var model = new Gpt(Small);
        model.eval();
        var ckpt = Path.Combine(dir.Path, "ckpt");
        Checkpoint.Save(ckpt, model, tokenizerDir: null);
        var (loaded, config) = Checkpoint.LoadModel(ckpt, CPU);
        Assert.Equal(Small, config);
        using var _ = no_grad();
        using var tokens = randint(0, Small.VocabSize, [1, 10], dtype: ScalarType.Int64);
        Assert.True(model.forward(tokens).equal(loaded.forward(tokens)).all().item<bool>());
        loaded.Dispose();
    }
}
