using CodeLm.Tokenizer;

namespace CodeLm.DataPipeline.Shards;

/// <summary>Whether each document starts with CodeLm's language tag line (<c># language: Python</c>).</summary>
public enum TagLines
{
    /// <summary>On for CodeLm's own tokenizers (their models learn the tag), off for a pretrained model's (it never saw one).</summary>
    Auto,
    On,
    Off,
}

public static class TagLinesExtensions
{
    public static bool For(this TagLines tagLines, TokenizerKind kind) => tagLines switch
    {
        TagLines.On => true,
        TagLines.Off => false,
        TagLines.Auto => kind == TokenizerKind.CodeLm,
        _ => throw new ArgumentOutOfRangeException(nameof(tagLines), tagLines, null),
    };
}
