namespace CodeLm.Common;

/// <summary>The order fill-in-the-middle puts the two sides in: prefix first (PSM) or suffix first (SPM).</summary>
public enum FimFormat { Psm, Spm }

/// <summary>A tokenizer's FIM sentinel ids.</summary>
public readonly record struct FimSentinels(int Prefix, int Middle, int Suffix);

/// <summary>
/// The one fill-in-the-middle layout (Bavarian et al. 2022), used token for token by the trainer's FIM examples, the
/// generator's and server's prompts and the test tools, so what the model learned is exactly what it is asked:
/// PSM: &lt;fim_prefix&gt; prefix &lt;fim_suffix&gt; suffix &lt;fim_middle&gt; middle;
/// SPM: &lt;fim_prefix&gt;&lt;fim_suffix&gt; suffix &lt;fim_middle&gt; prefix middle.
/// In SPM the prefix sits right before the middle, so text typed at the cursor only extends the prompt.
/// </summary>
public static class FimLayout
{
    /// <summary>Sentinel tokens the layout adds around prefix and suffix.</summary>
    public const int SentinelCount = 3;

    /// <summary>What the model is given; it continues with the middle, then end-of-text.</summary>
    public static int[] Prompt(FimFormat format, FimSentinels s, IReadOnlyList<int> prefix, IReadOnlyList<int> suffix) =>
        Document(format, s, prefix, suffix, []);

    /// <summary>A training example: the prompt followed by the middle.</summary>
    public static int[] Document(FimFormat format, FimSentinels s, IReadOnlyList<int> prefix, IReadOnlyList<int> suffix, IReadOnlyList<int> middle) => format switch
    {
        FimFormat.Psm => [s.Prefix, .. prefix, s.Suffix, .. suffix, s.Middle, .. middle],
        FimFormat.Spm => [s.Prefix, s.Suffix, .. suffix, s.Middle, .. prefix, .. middle],
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };
}
