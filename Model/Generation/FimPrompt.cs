using CodeLm.Tokenizer;

namespace CodeLm.Model.Generation;

/// <summary>
/// Fill-in-the-middle prompt layout, token for token as the trainer builds its FIM examples (the model continues with
/// the middle, then end-of-text):
/// PSM: &lt;fim_prefix&gt; prefix &lt;fim_suffix&gt; suffix &lt;fim_middle&gt;;
/// SPM: &lt;fim_prefix&gt;&lt;fim_suffix&gt; suffix &lt;fim_middle&gt; prefix.
/// </summary>
public static class FimPrompt
{
    public static int[] Build(CodeTokenizer codec, IReadOnlyList<int> prefix, IReadOnlyList<int> suffix, FimFormat format) => format switch
    {
        FimFormat.Psm => [codec.FimPrefix, .. prefix, codec.FimSuffix, .. suffix, codec.FimMiddle],
        FimFormat.Spm => [codec.FimPrefix, codec.FimSuffix, .. suffix, codec.FimMiddle, .. prefix],
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>Sentinel tokens the layout adds around prefix and suffix.</summary>
    public const int SentinelCount = 3;
}
