using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Lora;

/// <summary>
/// One low-rank update A [rank, in], B [rows, rank] on a run of a linear layer's output rows: CodeLm stacks q, k and v
/// (and gate and up) into one matrix, where PEFT adapts each projection on its own, so each gets its own part.
/// </summary>
public sealed class LoraPart : nn.Module
{
    private readonly Parameter A;
    private readonly Parameter B;

    public LoraPart(int offset, int rows, int inputs, int rank, string hfModule, LoraTarget target) : base("lora_part")
    {
        (Offset, Rows, HfModule, Target) = (offset, rows, hfModule, target);
        // PEFT's default: A ~ kaiming_uniform(a=√5), i.e. U(±1/√in); B = 0, so the adapted model starts as the base.
        double bound = 1 / Math.Sqrt(inputs);
        A = new Parameter(empty(rank, inputs).uniform_(-bound, bound));
        B = new Parameter(zeros(rows, rank));
        RegisterComponents();
    }

    public int Offset { get; }
    public int Rows { get; }

    /// <summary>The Hugging Face module this part adapts, e.g. model.layers.0.self_attn.q_proj.</summary>
    public string HfModule { get; }
    public LoraTarget Target { get; }
    public Parameter LoraA => A;
    public Parameter LoraB => B;

    /// <summary>B·A, the update of this part's rows before scaling.</summary>
    public Tensor Delta() => B.matmul(A);
}

/// <summary>
/// A frozen linear layer (weight and bias under the Linear's own names, so the base loads and saves as before) plus
/// <see cref="LoraPart"/>s: forward(x) = x·Wᵀ + b + scale · dropout(x)·Aᵀ·Bᵀ on each part's rows.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly ModuleList<LoraPart> lora;
    private readonly double _scale, _dropout;

    public LoraLinear(Linear frozen, IEnumerable<LoraPart> parts, double scale, double dropout) : base("lora_linear")
    {
        weight = frozen.weight!;
        bias = frozen.bias;
        weight.requires_grad = false;
        if (bias is not null) bias.requires_grad = false;
        lora = new ModuleList<LoraPart>(parts.OrderBy(p => p.Offset).ToArray());
        (_scale, _dropout) = (scale, dropout);
        RegisterComponents();
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public IReadOnlyList<LoraPart> Parts => lora.ToList();

    public override Tensor forward(Tensor x)
    {
        var y = nn.functional.linear(x, weight, bias);
        var input = training && _dropout > 0 ? nn.functional.dropout(x, _dropout, training: true) : x;
        var pieces = new List<Tensor>();
        long at = 0, rows = weight.shape[0];
        foreach (var part in lora)
        {
            if (part.Offset > at) pieces.Add(zeros([.. x.shape[..^1], part.Offset - at], x.dtype, x.device));
            pieces.Add(nn.functional.linear(nn.functional.linear(input, part.LoraA), part.LoraB));
            at = part.Offset + part.Rows;
        }
        if (at < rows) pieces.Add(zeros([.. x.shape[..^1], rows - at], x.dtype, x.device));
        var delta = pieces.Count == 1 ? pieces[0] : cat(pieces, -1);
        return y + delta * _scale;
    }

    /// <summary>W + scale · B·A on every part's rows: the plain linear layer this one computes (dropout aside).</summary>
    public Linear Merged()
    {
        var merged = nn.Linear(weight.shape[1], weight.shape[0], hasBias: bias is not null, dtype: weight.dtype);
        using var _ = no_grad();
        merged.weight!.copy_(weight);
        if (bias is not null) merged.bias!.copy_(bias);
        foreach (var part in lora)
        {
            using var delta = part.Delta();
            merged.weight.narrow(0, part.Offset, part.Rows).add_(delta.to(weight.dtype), alpha: _scale);
        }
        return merged;
    }
}
