using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Inference;

/// <summary>
/// A linear layer for CPU inference, a drop-in for <see cref="Linear"/> (<c>forward(x) = x · Wᵀ + b</c>) that reads
/// cheaper copies of W by input length: int8 for one position per sequence (decoding steps, bound by reading the
/// weights), bfloat16 for longer inputs (prompts, bound by arithmetic, where a CPU with bf16 dot products is several times
/// faster). Without a copy for a case the float32 W is used. The copies do not follow later changes to W.
/// </summary>
public sealed class InferenceLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly bool ownsWeight;
    private readonly Int8Weights? int8;
    private readonly Tensor? bf16;

    private InferenceLinear(Parameter weight, Parameter? bias, bool ownsWeight, InferenceWeights weights) : base("inference_linear")
    {
        this.weight = weight;
        this.bias = bias;
        this.ownsWeight = ownsWeight;
        Weights = weights;
        int8 = weights.Steps == StepWeights.Int8 ? Int8Weights.Quantize(weight) : null;
        if (weights.Prompts == PromptWeights.BFloat16)
        {
            using var detached = weight.detach();
            bf16 = detached.to(ScalarType.BFloat16).DetachFromDisposeScope();
        }
        RegisterComponents();
    }

    /// <summary>For a layer's own weight (and bias); they stay registered as <c>weight</c> and <c>bias</c>, so parameter names are the Linear's.</summary>
    public static InferenceLinear Of(Parameter weight, Parameter? bias, InferenceWeights weights) => new(weight, bias, ownsWeight: true, weights);

    /// <summary>
    /// For the head tied to the embedding: the embedding owns the weight. Int8 steps only: prompts read the head once,
    /// at their last position, which is a step.
    /// </summary>
    public static InferenceLinear Tied(Parameter weight, InferenceWeights weights) =>
        new(weight, null, ownsWeight: false, weights with { Prompts = PromptWeights.Float32 });

    /// <summary>The float32 weight the copies were made from.</summary>
    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    internal Int8Weights? Int8 => int8;

    /// <summary>The copies this layer reads.</summary>
    public InferenceWeights Weights { get; }

    // Only the float32 weight is state: the copies are derived, and a tied weight is the embedding's to save.
    protected override void RegisterComponents()
    {
        if (ownsWeight) ConditionallyRegisterParameter("weight", weight);
        if (bias is not null) ConditionallyRegisterParameter("bias", bias);
    }

    public override Tensor forward(Tensor x)
    {
        var y = Product(x);
        if (bias is null) return y;
        using (y) return y + bias;
    }

    private Tensor Product(Tensor x)
    {
        if (x.shape[^2] == 1) return int8 != null ? int8.Forward(x) : Plain(x);
        if (bf16 is null) return Plain(x);
        using var half = x.to(ScalarType.BFloat16);
        using var y = nn.functional.linear(half, bf16);
        return y.to(ScalarType.Float32);
    }

    // The weight as stored; a model loaded with bf16 linear weights (Gpt's linearWeights) computes float32 input in bf16.
    private Tensor Plain(Tensor x)
    {
        if (x.dtype == weight.dtype) return nn.functional.linear(x, weight);
        using var cast = x.to(weight.dtype);
        using var y = nn.functional.linear(cast, weight);
        return y.to(x.dtype);
    }

    /// <summary>Frees the copies, leaving the weight to whoever holds it (for swapping in another layer).</summary>
    internal void ReleaseCopies()
    {
        bf16?.Dispose();
        int8?.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) ReleaseCopies();
        base.Dispose(disposing);
    }
}
