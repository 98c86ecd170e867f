using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Decoder-only GPT. <c>forward(idx)</c> gives logits [B, T, V] for every position;
/// <c>forward(idx, cache, lastOnly)</c> decodes incrementally: the first call prefills, later calls add one (or more) tokens.
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly ModuleList<Block> h;
    private readonly LayerNorm ln_f;
    private Int8Weights? _headInt8;
    private readonly List<InferenceWeights> _inference = [];

    public GptConfig Config { get; }

    public Gpt(GptConfig config) : base("gpt")
    {
        Config = config.Validate();
        wte = nn.Embedding(config.VocabSize, config.Embedding);
        wpe = nn.Embedding(config.ContextLength, config.Embedding);
        h = new ModuleList<Block>(Enumerable.Range(0, config.Layers).Select(_ => new Block(config)).ToArray());
        ln_f = nn.LayerNorm(config.Embedding, config.LayerNormEpsilon, elementwise_affine: true, bias: false);
        RegisterComponents();
        InitializeWeights();
    }

    /// <summary>N(0, 0.02) everywhere, residual projections N(0, 0.02/sqrt(2L)), LayerNorm gains 1. Seed torch first.</summary>
    private void InitializeWeights()
    {
        using var _ = no_grad();
        double residualStd = 0.02 / Math.Sqrt(2.0 * Config.Layers);
        var residual = new HashSet<Parameter>();
        foreach (var block in h)
        {
            residual.Add(block.Attention.ResidualProjection.weight!);
            residual.Add(block.Mlp.ResidualProjection.weight!);
        }
        foreach (var (name, p) in named_parameters())
        {
            if (name.Contains("ln_", StringComparison.Ordinal)) nn.init.ones_(p);
            else nn.init.normal_(p, 0.0, residual.Contains(p) ? residualStd : 0.02);
        }
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <summary>
    /// Adds inference copies of the weights on a CPU float32 model: with <paramref name="int8Steps"/>, int8 copies of every
    /// linear weight and the tied head, used for inputs of one position per sequence (decoding steps, and the head after a
    /// <c>lastOnly</c> prefill); with <paramref name="bf16Prompts"/>, bfloat16 copies of the block weights for longer inputs.
    /// For inference only: the copies do not follow later changes to the weights, and outputs differ from float32 by the
    /// rounding (measured in docs/generation.md).
    /// </summary>
    public void PrepareCpuInference(bool int8Steps = true, bool bf16Prompts = false)
    {
        var w = wte.weight!;
        if (w.device_type != DeviceType.CPU || w.dtype != ScalarType.Float32)
            throw new InvalidOperationException($"CPU inference weights are for float32 models on the CPU; this one is {w.dtype} on {w.device}.");
        DisposeInferenceCopies();
        foreach (var block in h)
        {
            _inference.AddRange(block.Attention.PrepareInference(int8Steps, bf16Prompts));
            _inference.AddRange(block.Mlp.PrepareInference(int8Steps, bf16Prompts));
        }
        _headInt8 = int8Steps ? Int8Weights.Quantize(w) : null;
        InferencePrecision = (int8Steps ? "int8" : "float32") + " steps, " + (bf16Prompts ? "bfloat16" : "float32") + " prompts";
    }

    private void DisposeInferenceCopies()
    {
        foreach (var w in _inference) w.Dispose();
        _inference.Clear();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) DisposeInferenceCopies();
        base.Dispose(disposing);
    }

    /// <summary>How inputs are computed: "float32" until <see cref="PrepareCpuInference"/>, then e.g. "int8 steps, bfloat16 prompts".</summary>
    public string InferencePrecision { get; private set; } = "float32";


    public override Tensor forward(Tensor idx) => forward(idx, null, lastOnly: false);

    /// <summary>Logits for <paramref name="idx"/> [B, T] placed after the cache's positions (0 without a cache).</summary>
    public Tensor forward(Tensor idx, KvCache? cache, bool lastOnly = false)
    {
        long t = idx.shape[1];
        int start = cache?.Length ?? 0;
        if (start + t > Config.ContextLength)
            throw new ArgumentException($"Sequence of {start + t} positions exceeds the model context {Config.ContextLength}.");
        using var pos = arange(start, start + t, dtype: ScalarType.Int64, device: idx.device);
        var x = wte.forward(idx) + wpe.forward(pos);
        for (int i = 0; i < h.Count; i++) x = h[i].forward(x, cache, i);
        cache?.Advance((int)t);
        x = ln_f.forward(x);
        if (lastOnly) x = x[.., ^1.., ..];
        return _headInt8 != null && x.shape[1] == 1 ? _headInt8.Forward(x) : nn.functional.linear(x, wte.weight!); // tied head
    }

    /// <summary>Mean next-token cross-entropy of <paramref name="idx"/> against <paramref name="targets"/>, both [B, T].</summary>
    public Tensor Loss(Tensor idx, Tensor targets)
    {
        var logits = forward(idx);
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]).to(ScalarType.Float32), targets.view(-1));
    }
}
