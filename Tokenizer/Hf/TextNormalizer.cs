using System.Text;

namespace CodeLm.Tokenizer.Hf;

/// <summary>tokenizer.json's normalizer: Unicode normalization forms applied in order (none for most code models).</summary>
internal sealed class TextNormalizer(IReadOnlyList<NormalizationForm> forms)
{
    public static TextNormalizer None { get; } = new([]);

    public bool IsIdentity => forms.Count == 0;

    public string Apply(string text)
    {
        foreach (var form in forms)
            if (!text.IsNormalized(form)) text = text.Normalize(form);
        return text;
    }
}
