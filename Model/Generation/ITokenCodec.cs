namespace CodeLm.Model.Generation;

/// <summary>What generation needs from a tokenizer: text to ids, ids to raw bytes (for streaming partial UTF-8), and the special ids.</summary>
public interface ITokenCodec
{
    int VocabSize { get; }
    int EndOfText { get; }
    int FimPrefix { get; }
    int FimMiddle { get; }
    int FimSuffix { get; }
    int FimPad { get; }
    int[] Encode(string text);
    byte[] DecodeBytes(ReadOnlySpan<int> ids);
}
