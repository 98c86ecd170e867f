using CodeLm.Tokenizer;

namespace CodeLm.Server.Http;

/// <summary>
/// Fill-in-the-middle written out as text in the prompt, as clients with prompt templates send it (Continue's
/// <c>promptTemplates.autocomplete</c>, Tabby's <c>prompt_template</c>): <c>&lt;fim_prefix&gt;P&lt;fim_suffix&gt;S&lt;fim_middle&gt;</c>, or
/// Qwen's <c>&lt;|fim_prefix|&gt;</c> spelling. CodeLm's own tokenizers never read sentinels from text (a file that
/// mentions them stays text), so the endpoint takes the two sides out and the generator lays them out with the real
/// sentinel ids, in the model's own order.
/// </summary>
public static class FimTemplate
{
    private static readonly (string Prefix, string Suffix, string Middle)[] Spellings =
    [
        (SpecialTokens.FimPrefix, SpecialTokens.FimSuffix, SpecialTokens.FimMiddle),
        ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
    ];

    /// <summary>Prefix and suffix of a prompt laid out exactly as above (one of each sentinel, nothing after the last), else null.</summary>
    public static (string Prefix, string Suffix)? Split(string prompt)
    {
        foreach (var (p, s, m) in Spellings)
        {
            if (!prompt.StartsWith(p, StringComparison.Ordinal) || !prompt.EndsWith(m, StringComparison.Ordinal)) continue;
            var body = prompt[p.Length..^m.Length];
            var at = body.IndexOf(s, StringComparison.Ordinal);
            if (at < 0 || body.IndexOf(s, at + s.Length, StringComparison.Ordinal) >= 0 || body.Contains(p, StringComparison.Ordinal) || body.Contains(m, StringComparison.Ordinal)) continue;
            return (body[..at], body[(at + s.Length)..]);
        }
        return null;
    }
}
