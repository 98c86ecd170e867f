using CodeLm.Common;

namespace CodeLm.Server.Completion;

/// <summary>
/// Builds the FIM prompt from the text around the cursor under a token budget: the language tag line, then as much of
/// the prefix as fits its share (whole lines, nearest the cursor first), then the suffix in what is left.
/// </summary>
public static class PromptBuilder
{
    public static CompletionPrompt Build(string prefix, string suffix, string language, int budgetTokens, double prefixShare, Func<string, int> countTokens)
    {
        var tag = LanguageTag.Prefix(language);
        var budget = Math.Max(8, budgetTokens - countTokens(tag));
        var prefixBudget = (int)Math.Round(budget * prefixShare);
        var keptSuffix = KeepStart(suffix, budget - prefixBudget, countTokens);
        // Whatever the suffix leaves unused goes to the prefix.
        var keptPrefix = KeepEnd(prefix, budget - countTokens(keptSuffix), countTokens);
        return new CompletionPrompt(tag + keptPrefix, keptSuffix, language);
    }

    /// <summary>The longest tail of <paramref name="text"/> within <paramref name="maxTokens"/>, starting at a line start when it can.</summary>
    public static string KeepEnd(string text, int maxTokens, Func<string, int> countTokens)
    {
        if (maxTokens <= 0 || text.Length == 0) return "";
        var kept = text;
        for (var round = 0; round < 12; round++)
        {
            var tokens = countTokens(kept);
            if (tokens <= maxTokens) return kept;
            var chars = Math.Max(1, (int)(kept.Length * (double)maxTokens / tokens * 0.95));
            var cut = kept.Length - chars;
            var lineStart = kept.IndexOf('\n', cut) + 1;
            // Snap to a line start unless that throws away most of what would fit (one very long line).
            kept = lineStart > 0 && kept.Length - lineStart >= chars / 2 ? kept[lineStart..] : kept[cut..];
        }
        return "";
    }

    /// <summary>The longest head of <paramref name="text"/> within <paramref name="maxTokens"/>, ending at a line end when it can.</summary>
    public static string KeepStart(string text, int maxTokens, Func<string, int> countTokens)
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
