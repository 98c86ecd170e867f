using CodeLm.Common;

namespace CodeLm.Model.Training;

/// <summary>
/// The control ids of the training stream (from the tokenizer): end-of-text after each document, the begin-of-text id
/// before it for families that have one, and the FIM sentinels.
/// </summary>
public sealed record FimTokens(int EndOfText, int Prefix, int Middle, int Suffix, int? BeginOfText = null)
{
    public FimSentinels Sentinels => new(Prefix, Middle, Suffix);
}

/// <summary>
/// Fill-in-the-middle (Bavarian et al. 2022): with probability <c>Rate</c>, a document is decoded to text, cut at two
/// uniformly random character positions into prefix / middle / suffix, and re-encoded in <see cref="FimLayout"/>'s
/// PSM order, or (with probability <c>SpmRate</c>) its SPM order. The language tag line always stays at the start of
/// the prefix.
/// </summary>
public sealed class FimTransform(Func<string, int[]> encode, Func<int[], string> decode, FimTokens tokens, double rate = 0.5, double spmRate = 0.5)
{
    public double Rate { get; } = rate;
    public double SpmRate { get; } = spmRate;

    public int[] Apply(int[] document, Random rng)
    {
        // Always draw the same number of random values, so a document's fate does not depend on the rate alone.
        double pick = rng.NextDouble(), spm = rng.NextDouble(), a = rng.NextDouble(), b = rng.NextDouble();
        if (pick >= Rate || document.Length == 0) return document;

        var text = decode(document);
        int start = LanguageTag.ReadLine(text)?.Length ?? 0;
        int span = text.Length - start;
        int i = start + (int)(a * (span + 1)), j = start + (int)(b * (span + 1));
        if (i > j) (i, j) = (j, i);
        i = AvoidSurrogateSplit(text, Math.Min(i, text.Length));
        j = AvoidSurrogateSplit(text, Math.Min(j, text.Length));

        var prefix = encode(text[..i]);
        var middle = encode(text[i..j]);
        var suffix = encode(text[j..]);
        return FimLayout.Document(spm < SpmRate ? FimFormat.Spm : FimFormat.Psm, tokens.Sentinels, prefix, suffix, middle);
    }

    private static int AvoidSurrogateSplit(string text, int index) =>
        index > 0 && index < text.Length && char.IsLowSurrogate(text[index]) && char.IsHighSurrogate(text[index - 1]) ? index - 1 : index;
}
