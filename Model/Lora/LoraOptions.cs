using CodeLm.Common;

namespace CodeLm.Model.Lora;

/// <summary>The projections LoRA adapts, by their Hugging Face (PEFT target_modules) names.</summary>
[Flags]
public enum LoraTarget
{
    None = 0,
    Query = 1,   // q_proj
    Key = 2,     // k_proj
    Value = 4,   // v_proj
    Output = 8,  // o_proj (GPT-2: attn.c_proj)
    Gate = 16,   // gate_proj
    Up = 32,     // up_proj (GPT-2: mlp.c_fc)
    Down = 64,   // down_proj (GPT-2: mlp.c_proj)
    Attention = Query | Key | Value | Output,
    Mlp = Gate | Up | Down,
    All = Attention | Mlp,
}

/// <summary>
/// Low-rank adaptation (Hu et al., 2021) as PEFT defines it: each targeted projection W gains ΔW = (Alpha / Rank) · B·A
/// with A [Rank, in] and B [out, Rank]; W stays frozen, B starts at zero so training starts from the base model.
/// </summary>
public sealed record LoraOptions
{
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    public double Dropout { get; init; } = 0.05;
    public LoraTarget Targets { get; init; } = LoraTarget.All;

    /// <summary>Also train the token embedding (and an untied head) in full, as PEFT's modules_to_save.</summary>
    public bool TrainEmbeddings { get; init; }

    public double Scale => Alpha / Rank;

    public LoraOptions Validate()
    {
        if (Rank <= 0) throw new OptionException(nameof(Rank), $"must be positive, not {Rank}.");
        if (Alpha <= 0) throw new OptionException(nameof(Alpha), $"must be positive, not {Alpha}.");
        if (Dropout is < 0 or >= 1) throw new OptionException(nameof(Dropout), $"must be in [0, 1), not {Dropout}.");
        if (Targets == LoraTarget.None) throw new OptionException(nameof(Targets), "names no projection to adapt.");
        return this;
    }

    /// <summary>PEFT's target_modules names of one target.</summary>
    public static string PeftName(LoraTarget t) => t switch
    {
        LoraTarget.Query => "q_proj", LoraTarget.Key => "k_proj", LoraTarget.Value => "v_proj", LoraTarget.Output => "o_proj",
        LoraTarget.Gate => "gate_proj", LoraTarget.Up => "up_proj", LoraTarget.Down => "down_proj",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "one target at a time"),
    };
}
