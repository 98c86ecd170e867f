using CodeLm.Common;

namespace CodeLm.Model.Generation;

/// <summary>
/// <see cref="Tokens"/>: keep exactly as many tokens as fit. <see cref="WholeLines"/>: keep whole lines nearest the cursor,
/// so the cut stays put while the user types and the start of the prompt, with its KV cache, can be reused.
/// </summary>
public enum PromptCut { Tokens, WholeLines }

/// <summary>
/// How to pick tokens and when to stop. Temperature 0 is greedy. TopK 0 and TopP 1 are off; RepetitionPenalty 1 is off.
/// Sample i of a request draws from its own random stream seeded with <see cref="Seed"/> + i, so a batch of n equals
/// n separate runs with seeds Seed..Seed+n-1.
/// </summary>
public sealed record SamplingOptions(int MaxNewTokens = 128, float Temperature = 0, int TopK = 0, float TopP = 1, float RepetitionPenalty = 1,
    IReadOnlyList<string>? StopSequences = null, long Seed = 0)
{
    /// <summary>Share of the FIM prompt budget given to the prefix when both sides are too long (the rest goes to the suffix).</summary>
    public double FimPrefixShare { get; init; } = 0.75;

    /// <summary>Sentinel order for fill-in-the-middle prompts.</summary>
    public FimFormat FimFormat { get; init; } = FimFormat.Psm;

    /// <summary>Prompt tokens kept at most (nearest the cursor). 0: the context minus room for the new tokens (at most half the context).</summary>
    public int MaxPromptTokens { get; init; }

    /// <summary>Where a prompt too long for its budget is cut (see <see cref="Generation.PromptCut"/>).</summary>
    public PromptCut PromptCut { get; init; } = PromptCut.Tokens;

    public bool IsGreedy => Temperature == 0;

    /// <summary>Throws with a clear message on values that cannot be honoured.</summary>
    public SamplingOptions Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentException($"Max new tokens must be at least 1 (got {MaxNewTokens}).");
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"Temperature must be 0 (greedy) or positive (got {Temperature}).");
        if (TopK < 0) throw new ArgumentException($"Top-k must be 0 (off) or positive (got {TopK}).");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"Top-p must be in (0, 1] (got {TopP}).");
        if (!(RepetitionPenalty > 0) || float.IsInfinity(RepetitionPenalty)) throw new ArgumentException($"Repetition penalty must be positive (got {RepetitionPenalty}); 1 is off.");
        if (!(FimPrefixShare > 0 && FimPrefixShare < 1)) throw new ArgumentException($"FIM prefix share must be in (0, 1) (got {FimPrefixShare}).");
        if (MaxPromptTokens < 0) throw new ArgumentException($"Max prompt tokens must be 0 (auto) or positive (got {MaxPromptTokens}).");
        if (StopSequences != null && StopSequences.Any(string.IsNullOrEmpty)) throw new ArgumentException("Stop sequences must not be empty strings.");
        return this;
    }
}
