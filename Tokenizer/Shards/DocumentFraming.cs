using CodeLm.Common;

namespace CodeLm.Tokenizer.Shards;

/// <summary>
/// How one corpus file becomes one stored document, in the tokenizer family's conventions:
/// <c>[begin-of-text] [language tag line] content end-of-text</c>. The begin-of-text id is there only for families whose
/// tokenizer puts one first (DeepSeek-Coder); end-of-text is the tokenizer's own (Megatron's <c>--append-eod</c>
/// layout), so the shards also train in Megatron-LM or GPT-NeoX as they are. Tag lines are CodeLm's convention and
/// optional (<see cref="TagLines"/>): a pretrained model never saw them.
/// </summary>
public sealed record DocumentFraming(TokenizerKind Tokenizer, bool TagLines, int EndOfText, int? BeginOfText)
{
    /// <summary>The framing <paramref name="tokenizer"/> asks for (throws when it has no end-of-text token).</summary>
    public static DocumentFraming For(CodeTokenizer tokenizer, bool tagLines) =>
        new(tokenizer.Kind, tagLines, tokenizer.EndOfText, tokenizer.BeginOfText);

    /// <summary>Framing tokens around every document's body.</summary>
    public int FramingTokens => BeginOfText is null ? 1 : 2;

    /// <summary>Appends one document's ids to <paramref name="ids"/>.</summary>
    public void Encode(CodeTokenizer tokenizer, string language, string content, List<int> ids)
    {
        if (BeginOfText is { } bos) ids.Add(bos);
        tokenizer.Encode(TagLines ? LanguageTag.Prefix(language) + content : content, ids);
        ids.Add(EndOfText);
    }

    /// <summary>A stored document without its framing tokens (one at each end at most, as <see cref="Encode"/> put them).</summary>
    public ReadOnlySpan<int> Body(ReadOnlySpan<int> document)
    {
        if (BeginOfText is { } bos && document.Length > 0 && document[0] == bos) document = document[1..];
        if (document.Length > 0 && document[^1] == EndOfText) document = document[..^1];
        return document;
    }
}
