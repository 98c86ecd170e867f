namespace CodeLm.Tokenizer;

/// <summary>
/// A well-formed tokenizer <see cref="CodeTokenizer"/> does not implement: neither CodeLm's own files nor a byte-level
/// BPE tokenizer.json (WordPiece, Unigram, a SentencePiece-only tokenizer.model, Llama-2-style BPE with byte_fallback,
/// a normalizer or pre-tokenizer outside the supported set). Carries which part was refused (<see cref="Component"/>),
/// what the file has there (<see cref="Found"/>) and what would have been accepted (<see cref="Supported"/>).
/// A broken file (bad JSON, no vocabulary, merges of unknown tokens) is an <see cref="InvalidDataException"/> instead;
/// that type is sealed, hence <see cref="NotSupportedException"/> as the base here.
/// </summary>
public sealed class UnsupportedTokenizerException(string path, string component, string found, string supported)
    : NotSupportedException($"'{path}' is not a tokenizer CodeLm can load: it was not written by CodeLm's BPE trainer, and as a Hugging Face tokenizer its {component} is {found}; supported: {supported}.")
{
    public string Path { get; } = path;
    public string Component { get; } = component;
    public string Found { get; } = found;
    public string Supported { get; } = supported;

    /// <summary>What a Hugging Face tokenizer.json may use (the families of open code models CodeLm reads).</summary>
    public const string SupportedSummary =
        "byte-level BPE tokenizer.json (GPT-2, StarCoder, Qwen2, DeepSeek-Coder families): model BPE; normalizer null, NFC, NFKC, NFD, NFKD or a Sequence of them; " +
        "pre_tokenizer ByteLevel, Split, Digits or a Sequence of them ending in ByteLevel; decoder ByteLevel";
}
