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
    /// prefix alone: it can only continue text.
    /// </summary>
    public int[] BuildFimPrompt(string prefix, string suffix, SamplingOptions options)
    {
        if (!_tokenizer.HasFim) return BuildPrompt(prefix, options);
        int budget = PromptBudget.FimTokens(ContextLength, options.Validate());
        if (options.PromptCut == PromptCut.WholeLines) (prefix, suffix) = FitFim(prefix, suffix, options);
        var p = _tokenizer.Encode(prefix);
        var s = _tokenizer.Encode(suffix);
        int[] pinned = [];
        if (p.Length + s.Length > budget && LanguageTag.ReadLine(prefix) is { } tag)
        {
            var tagIds = _tokenizer.Encode(tag);
            if (tagIds.Length < budget) { pinned = tagIds; p = _tokenizer.Encode(prefix[tag.Length..]); }
        }
        var (keepPrefix, keepSuffix) = PromptBudget.SplitFim(pinned.Length + p.Length, s.Length, budget, options.FimPrefixShare);
        keepPrefix = Math.Max(0, keepPrefix - pinned.Length);
        int[] keptPrefix = [.. pinned, .. p.AsSpan(p.Length - keepPrefix)];
        return FimLayout.Prompt(options.FimFormat, _tokenizer.Fim, keptPrefix, s[..keepSuffix]);
    }

    /// <summary>The text <see cref="BuildFimPrompt"/> keeps of prefix and suffix with <see cref="PromptCut.WholeLines"/>.</summary>
    public (string Prefix, string Suffix) FitFim(string prefix, string suffix, SamplingOptions options) =>
        PromptBudget.SplitFimLines(prefix, suffix, PromptBudget.FimTokens(ContextLength, options.Validate()), options.FimPrefixShare,
            text => _tokenizer.Encode(text).Length);
}
