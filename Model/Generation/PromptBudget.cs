namespace CodeLm.Model.Generation;

/// <summary>
/// Fitting prompts into the model context. The text nearest the cursor matters most: a plain prompt keeps its end,
/// a FIM prompt keeps the end of the prefix and the start of the suffix.
/// </summary>
public static class PromptBudget
{
    /// <summary>
    /// Prompt tokens allowed: <paramref name="maxPromptTokens"/> when set, else the context minus room for the new tokens,
    /// where that room is capped at half the context so a huge max-new-tokens never starves the prompt.
    /// </summary>
    public static int PromptTokens(int contextLength, int maxNewTokens, int maxPromptTokens = 0)
    {
        int auto = contextLength - Math.Min(maxNewTokens, contextLength / 2);
        int budget = maxPromptTokens > 0 ? Math.Min(maxPromptTokens, contextLength - 1) : auto;
        return Math.Max(1, budget);
    }

    /// <summary>The last <paramref name="budget"/> tokens, after the <paramref name="pinned"/> head (a language tag line) when one is given.</summary>
    public static int[] KeepEnd(IReadOnlyList<int> tokens, int budget, IReadOnlyList<int>? pinned = null)
    {
        if (tokens.Count <= budget) return [.. tokens];
        pinned ??= [];
        if (pinned.Count >= budget) pinned = [];
        int keep = budget - pinned.Count;
        return [.. pinned, .. tokens.Skip(tokens.Count - keep)];
    }

    /// <summary>
    /// How many prefix and suffix tokens to keep within <paramref name="budget"/>. When both sides do not fit, the prefix
    /// gets <paramref name="prefixShare"/> of the budget and the suffix the rest; a side shorter than its share lends the
    /// unused room to the other.
    /// </summary>
    public static (int Prefix, int Suffix) SplitFim(int prefixLength, int suffixLength, int budget, double prefixShare)
    {
        if (budget < 0) budget = 0;
        if (prefixLength + suffixLength <= budget) return (prefixLength, suffixLength);
        int prefixRoom = (int)Math.Round(budget * prefixShare);
        int prefix = Math.Min(prefixLength, prefixRoom);
        int suffix = Math.Min(suffixLength, budget - prefix);
        prefix = Math.Min(prefixLength, budget - suffix);
        return (prefix, suffix);
    }
}
