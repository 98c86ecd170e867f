using CodeLm.Common;
using CodeLm.Model.Lora;

namespace CodeLm.Cli;

/// <summary>The words `--lora-targets` takes.</summary>
public static class LoraTargets
{
    public static LoraTarget Parse(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Aggregate(LoraTarget.None, (all, word) => all | word.ToLowerInvariant() switch
        {
            "q" or "q_proj" => LoraTarget.Query,
            "k" or "k_proj" => LoraTarget.Key,
            "v" or "v_proj" => LoraTarget.Value,
            "o" or "o_proj" => LoraTarget.Output,
            "gate" or "gate_proj" => LoraTarget.Gate,
            "up" or "up_proj" => LoraTarget.Up,
            "down" or "down_proj" => LoraTarget.Down,
            "attention" => LoraTarget.Attention,
            "mlp" => LoraTarget.Mlp,
            "all" => LoraTarget.All,
            _ => throw new OptionException(nameof(LoraOptions.Targets), $"has '{word}'; use q, k, v, o, gate, up, down, attention, mlp or all."),
        });
}
