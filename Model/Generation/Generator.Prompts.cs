using CodeLm.Tokenizer;
using CodeLm.Common;

namespace CodeLm.Model.Generation;

/// <summary>The prompts the generator feeds: text encoded and cut to the budget (<see cref="PromptBudget"/>), FIM laid out.</summary>
public sealed partial class Generator
{
    /// <summary>
    /// The prompt ids <see cref="Generate"/> feeds: the whole text encoded at once, or when too long its last tokens
    /// (after a leading language tag line, which is kept).
    /// </summary>
    public int[] BuildPrompt(string prompt, SamplingOptions options)
    {
        options.Validate();
        int budget = PromptBudget.PromptTokens(ContextLength, options.MaxNewTokens, options.MaxPromptTokens);
        var ids = _tokenizer.Encode(prompt);
        if (ids.Length <= budget) return ids;
        var tag = LanguageTag.ReadLine(prompt);
        return tag is null
            ? PromptBudget.KeepEnd(ids, budget)
            : PromptBudget.KeepEnd(_tokenizer.Encode(prompt[tag.Length..]), budget, _tokenizer.Encode(tag));
    }

    /// <summary>
    /// The prompt ids <see cref="GenerateFim"/> feeds: prefix and suffix encoded separately, as the trainer's FIM transform
    /// does, cut to the budget (end of the prefix, start of the suffix; a leading language tag line is kept; at whole lines
    /// with <see cref="PromptCut.WholeLines"/>), then laid out. A model without FIM tokens (GPT-2-style open models) gets the
    /// prefix alone: it can only continue text. <paramref name="context"/>: other files of the repository laid out by
    /// <see cref="RepoContext"/>, which take their tokens out of the budget first: before the FIM prompt for models with
    /// repository tokens, else right after the prefix's language tag.
    /// </summary>
    public int[] BuildFimPrompt(string prefix, string suffix, SamplingOptions options, IReadOnlyList<int>? context = null)
    {
        if (!_tokenizer.HasFim) return BuildPrompt(prefix, options);
        context ??= [];
        int budget = PromptBudget.FimTokens(ContextLength, options.Validate()) - context.Count;
        if (budget < 1) throw new ArgumentException($"The repository context ({context.Count} tokens) leaves no room for the prompt.");
        if (options.PromptCut == PromptCut.WholeLines) (prefix, suffix) = FitFim(prefix, suffix, options, context.Count);
        var before = RepoContext.BeforeFim(_tokenizer) ? context : [];
        var inPrefix = before.Count == 0 ? context : [];
        var p = _tokenizer.Encode(prefix);
        var s = _tokenizer.Encode(suffix);
        int[] pinned = [.. inPrefix];
        if ((inPrefix.Count > 0 || p.Length + s.Length > budget) && LanguageTag.ReadLine(prefix) is { } tag)
        {
            var tagIds = _tokenizer.Encode(tag);
            if (tagIds.Length < budget) { pinned = [.. tagIds, .. inPrefix]; p = _tokenizer.Encode(prefix[tag.Length..]); }
        }
        var (keepPrefix, keepSuffix) = PromptBudget.SplitFim(pinned.Length - inPrefix.Count + p.Length, s.Length, budget, options.FimPrefixShare);
        keepPrefix = Math.Max(0, keepPrefix - (pinned.Length - inPrefix.Count));
        int[] keptPrefix = [.. pinned, .. p.AsSpan(p.Length - keepPrefix)];
        return [.. before, .. FimLayout.Prompt(options.FimFormat, _tokenizer.Fim, keptPrefix, s[..keepSuffix])];
    }

    /// <summary>
    /// The text <see cref="BuildFimPrompt"/> keeps of prefix and suffix with <see cref="PromptCut.WholeLines"/>, with
    /// <paramref name="reserved"/> tokens of the budget taken by repository context.
    /// </summary>
    public (string Prefix, string Suffix) FitFim(string prefix, string suffix, SamplingOptions options, int reserved = 0) =>
        PromptBudget.SplitFimLines(prefix, suffix, Math.Max(1, PromptBudget.FimTokens(ContextLength, options.Validate()) - reserved), options.FimPrefixShare,
            text => _tokenizer.Encode(text).Length);
}
