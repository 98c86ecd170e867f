using CodeLm.Common;

namespace CodeLm.Model.Generation;

/// <summary>
/// Fitting prompts into the model context. The text nearest the cursor matters most: a plain prompt keeps its end,
/// a FIM prompt keeps the end of the prefix and the start of the suffix; a leading language tag line is kept.
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

    /// <summary>Tokens left for a FIM prompt's prefix and suffix once its sentinels are placed.</summary>
    public static int FimTokens(int contextLength, SamplingOptions options) =>
        Math.Max(0, PromptTokens(contextLength, options.MaxNewTokens, options.MaxPromptTokens) - FimLayout.SentinelCount);

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

    /// <summary>
    /// <see cref="SplitFim"/> on text, cutting at line boundaries: the suffix keeps whole lines from its start within its
    /// share, the prefix whole lines from its end (after its language tag line) within what the suffix left. Counted with
    /// <paramref name="countTokens"/> as each side will be encoded, so the two together stay within <paramref name="budget"/>.
    /// </summary>
    public static (string Prefix, string Suffix) SplitFimLines(string prefix, string suffix, int budget, double prefixShare, Func<string, int> countTokens)
    {
        int prefixTokens = countTokens(prefix), suffixTokens = countTokens(suffix);
        if (prefixTokens + suffixTokens <= budget) return (prefix, suffix);
        var (_, suffixRoom) = SplitFim(prefixTokens, suffixTokens, budget, prefixShare);
        var keptSuffix = KeepStartLines(suffix, suffixRoom, countTokens);
        var tag = LanguageTag.ReadLine(prefix) ?? "";
        return (KeepEndLines(prefix[tag.Length..], budget - countTokens(keptSuffix), countTokens, tag), keptSuffix);
    }

    /// <summary>
    /// The longest tail of <paramref name="text"/> that fits <paramref name="maxTokens"/> counted after
    /// <paramref name="head"/> (returned in front of it; dropped when it alone fills the budget), starting at a line start
    /// unless that throws away most of what would fit (one very long line).
    /// </summary>
    public static string KeepEndLines(string text, int maxTokens, Func<string, int> countTokens, string head = "")
    {
        int headTokens = head.Length == 0 ? 0 : countTokens(head);
        if (headTokens >= maxTokens) (head, headTokens) = ("", 0);
        if (maxTokens <= 0 || text.Length == 0) return head;
        var kept = text;
        for (var round = 0; round < 12; round++)
        {
            var tokens = countTokens(head + kept);
            if (tokens <= maxTokens) return head + kept;
            // Shrink by the token ratio, a little more so a round or two is enough.
            var chars = Math.Max(1, (int)(kept.Length * (double)(maxTokens - headTokens) / (tokens - headTokens) * 0.95));
            var cut = kept.Length - chars;
            var lineStart = kept.IndexOf('\n', cut) + 1;
            kept = lineStart > 0 && kept.Length - lineStart >= chars / 2 ? kept[lineStart..] : kept[cut..];
        }
        return head;
    }

    /// <summary>The longest head of <paramref name="text"/> within <paramref name="maxTokens"/>, ending at a line end when it can.</summary>
    public static string KeepStartLines(string text, int maxTokens, Func<string, int> countTokens)
    {
        if (maxTokens <= 0 || text.Length == 0) return "";
        var kept = text;
        for (var round = 0; round < 12; round++)
        {
            var tokens = countTokens(kept);
            if (tokens <= maxTokens) return kept;
            var chars = Math.Max(1, (int)(kept.Length * (double)maxTokens / tokens * 0.95));
            var lineEnd = kept.LastIndexOf('\n', chars - 1);
            kept = lineEnd >= chars / 2 ? kept[..(lineEnd + 1)] : kept[..chars];
        }
        return "";
    }
}
