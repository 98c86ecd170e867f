using CodeLm.Tokenizer;

namespace CodeLm.Server.Completion;

/// <summary>
/// Fill-in-the-middle written out as text in a prompt, for servers and clients that pass FIM that way: a template with
/// <c>{prefix}</c> and <c>{suffix}</c>, by family name or spelled out. Two directions: the HTTP endpoint takes such a
/// prompt apart (Continue's <c>promptTemplates.autocomplete</c>, Tabby's <c>prompt_template</c> send it), because
/// CodeLm's own tokenizers never read sentinels from text (a file that mentions them stays text) and the generator lays
/// the two sides out with the real sentinel ids; the remote backend renders one for servers that refuse a
/// <c>suffix</c> field (vLLM answers 400 "suffix is not currently supported") and whose tokenizer reads the sentinels
/// from the text.
/// </summary>
public sealed record FimTemplate(string Text)
{
    public const string PrefixSlot = "{prefix}", SuffixSlot = "{suffix}";

    /// <summary>The families' templates, in PSM order as their models were trained.</summary>
    public static IReadOnlyDictionary<string, FimTemplate> Named { get; } = new Dictionary<string, FimTemplate>(StringComparer.OrdinalIgnoreCase)
    {
        ["starcoder"] = new($"{SpecialTokens.FimPrefix}{{prefix}}{SpecialTokens.FimSuffix}{{suffix}}{SpecialTokens.FimMiddle}"), // also CodeLm's own names
        ["qwen"] = new("<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"),
        ["deepseek"] = new("<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>"),
        ["codellama"] = new("<PRE> {prefix} <SUF>{suffix} <MID>"),
    };

    /// <summary>A family name or a template with both slots, else null.</summary>
    public static FimTemplate? Parse(string text) =>
        Named.TryGetValue(text, out var named) ? named
        : text.Contains(PrefixSlot, StringComparison.Ordinal) && text.Contains(SuffixSlot, StringComparison.Ordinal) ? new FimTemplate(text) : null;

    public string Render(string prefix, string suffix)
    {
        // One pass, so a "{suffix}" inside the user's prefix is not substituted in turn.
        var p = Text.IndexOf(PrefixSlot, StringComparison.Ordinal);
        var s = Text.IndexOf(SuffixSlot, StringComparison.Ordinal);
        return p < s
            ? Text[..p] + prefix + Text[(p + PrefixSlot.Length)..s] + suffix + Text[(s + SuffixSlot.Length)..]
            : Text[..s] + suffix + Text[(s + SuffixSlot.Length)..p] + prefix + Text[(p + PrefixSlot.Length)..];
    }

    /// <summary>
    /// Prefix and suffix of a prompt laid out exactly as the StarCoder or Qwen template (one of each sentinel, nothing
    /// after the last), else null.
    /// </summary>
    public static (string Prefix, string Suffix)? Split(string prompt)
    {
        foreach (var name in new[] { "starcoder", "qwen" })
        {
            var t = Named[name].Text;
            var (p, s, m) = (t[..t.IndexOf(PrefixSlot, StringComparison.Ordinal)],
                t[(t.IndexOf(PrefixSlot, StringComparison.Ordinal) + PrefixSlot.Length)..t.IndexOf(SuffixSlot, StringComparison.Ordinal)],
                t[(t.IndexOf(SuffixSlot, StringComparison.Ordinal) + SuffixSlot.Length)..]);
            if (!prompt.StartsWith(p, StringComparison.Ordinal) || !prompt.EndsWith(m, StringComparison.Ordinal) || prompt.Length < p.Length + m.Length) continue;
            var body = prompt[p.Length..^m.Length];
            var at = body.IndexOf(s, StringComparison.Ordinal);
            if (at < 0 || body.IndexOf(s, at + s.Length, StringComparison.Ordinal) >= 0 || body.Contains(p, StringComparison.Ordinal) || body.Contains(m, StringComparison.Ordinal)) continue;
            return (body[..at], body[(at + s.Length)..]);
        }
        return null;
    }
}
