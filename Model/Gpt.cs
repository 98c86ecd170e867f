using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model;

/// <summary>
/// Decoder-only Transformer of any family <see cref="GptConfig"/> describes (CodeLm's GPT by default). <c>forward(idx)</c> gives logits [B, T, V] for every position;
/// <c>forward(idx, cache, lastOnly)</c> decodes incrementally: the first call prefills, later calls add one (or more) tokens.
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding? wpe; // learned positions only
    private readonly ModuleList<Block> h;
    private readonly nn.Module<Tensor, Tensor> ln_f;
    internal nn.Module<Tensor, Tensor> lm_head; // tied to wte (no parameter of its own) or a Linear; inference may swap in an int8 copy
    private readonly RotaryEmbedding? _rotary;

    public GptConfig Config { get; }

    /// <param name="initialize">False when weights are loaded next: skips drawing random ones.</param>
    /// <param name="linearWeights">
    /// The type of the linear layers' weights and biases. BFloat16 only for inference that computes with bf16 prompts and
    /// int8 steps (<see cref="Inference.CpuInference"/>), where no float32 copy of them is ever read: loaded that way, a
    /// bf16 model folder needs no float32 copy (a third of the memory; docs/model.md).
    /// </param>
    public Gpt(GptConfig config, bool initialize = true, ScalarType linearWeights = ScalarType.Float32) : base("gpt")
    {
        Config = config.Validate();
        wte = nn.Embedding(config.VocabSize, config.Embedding);
        if (config.Positions == PositionKind.Learned) wpe = nn.Embedding(config.ContextLength, config.Embedding);
        else _rotary = new RotaryEmbedding(config);
        h = new ModuleList<Block>(Enumerable.Range(0, config.Layers).Select(_ => new Block(config, _rotary, linearWeights)).ToArray());
        ln_f = RmsNorm.For(config);
        lm_head = config.TiedHead ? new TiedHead(wte) : nn.Linear(config.Embedding, config.VocabSize, hasBias: false, dtype: linearWeights);
        RegisterComponents();
        if (initialize) InitializeWeights();
    }

    /// <summary>N(0, 0.02) everywhere, residual projections N(0, 0.02/sqrt(2L)), norm gains 1, biases 0. Seed torch first.</summary>
    private void InitializeWeights()
    {
        using var _ = no_grad();
        double residualStd = 0.02 / Math.Sqrt(2.0 * Config.Layers);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal)) nn.init.zeros_(p);
            else if (name.Contains("ln_", StringComparison.Ordinal)) nn.init.ones_(p);
            else nn.init.normal_(p, 0.0, name.EndsWith("c_proj.weight", StringComparison.Ordinal) ? residualStd : 0.02);
        }
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    internal IList<Block> Blocks => h;
    internal Parameter TokenEmbedding => wte.weight!;
    internal Parameter? PositionEmbedding => wpe?.weight;
    internal nn.Module<Tensor, Tensor> FinalNorm => ln_f;
    internal RotaryEmbedding? Rotary => _rotary;

    /// <summary>The managed single-token path <see cref="Inference.CpuInference.Prepare"/> sets up for int8 steps, if any.</summary>
    internal Inference.CpuDecodeStep? DecodeStep { get; set; }

    /// <summary>The head's own weight when it is not tied to the embedding.</summary>
    internal Parameter? HeadWeight => lm_head switch { Linear l => l.weight, Inference.InferenceLinear i when !Config.TiedHead => i.Weight, _ => null };

    public override Tensor forward(Tensor idx) => forward(idx, null, lastOnly: false);

    /// <summary>Logits for <paramref name="idx"/> [B, T] placed after the cache's positions (0 without a cache).</summary>
    public Tensor forward(Tensor idx, KvCache? cache, bool lastOnly = false)
    {
        long t = idx.shape[1];
        int start = cache?.Length ?? 0;
        if (start + t > Config.ContextLength)
            throw new ArgumentException($"Sequence of {start + t} positions exceeds the model context {Config.ContextLength}.");
        if (t == 1 && cache != null && DecodeStep is { } step && step.Accepts(idx, cache)) return step.Forward(idx, cache);
        var x = wte.forward(idx);
        if (wpe != null && cache?.Padding is { } padding)
        {
            // Rows of different lengths: each new token at its own row's position (t is 1, as the attention checks).
            using var pos = (start - padding).view(-1, 1);
            x = x + wpe.forward(pos);
        }
        else if (wpe != null)
        {
            using var pos = arange(start, start + t, dtype: ScalarType.Int64, device: idx.device);
            x = x + wpe.forward(pos);
        }
        for (int i = 0; i < h.Count; i++) x = h[i].forward(x, cache, i);
        cache?.Advance((int)t);
        x = ln_f.forward(x);
        if (lastOnly) x = x[.., ^1.., ..];
        return lm_head.forward(x);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _rotary?.Dispose(); DecodeStep = null; }
        base.Dispose(disposing);
    }

    /// <summary>Mean next-token cross-entropy of <paramref name="idx"/> against <paramref name="targets"/>, both [B, T].</summary>
    public Tensor Loss(Tensor idx, Tensor targets)
    {
        var logits = forward(idx);
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]).to(ScalarType.Float32), targets.view(-1));
    }
}
