namespace CodeLm.Tokenizer.Shards;

/// <summary>
/// Megatron-LM's memory-mapped indexed dataset (MMIDIDX, version 1), the format GPT-NeoX and datatrove also read.
/// <c>.bin</c>: the tokens of every document back to back, little-endian. <c>.idx</c>:
/// magic "MMIDIDX\0\0" (9 bytes), version u64 = 1, dtype code u8, sequence count u64, document-index count u64,
/// then sizes (i32 × sequences, tokens each), pointers (i64 × sequences, byte offsets into .bin),
/// and the document index (i64 × (documents + 1): 0, then the sequence index after each document).
/// One sequence per document here, so the document index is 0..N.
/// </summary>
public static class IndexedDatasetFormat
{
    public static ReadOnlySpan<byte> Magic => "MMIDIDX\0\0"u8;
    public const ulong Version = 1;
    public const int HeaderBytes = 9 + 8 + 1 + 8 + 8;

    /// <summary>Megatron's dtype codes for the two token widths we write (its DType enum: 4 = int32, 8 = uint16).</summary>
    public const byte UInt16Code = 8, Int32Code = 4;

    /// <summary>
    /// Vocabularies below this size are stored as uint16, larger ones (Qwen2.5's 151,665 ids) as int32: Megatron's own
    /// cut-off for choosing the token dtype, kept so its tools pick the same width for the same tokenizer.
    /// </summary>
    public const int UInt16VocabLimit = 65500;

    public static byte DTypeFor(int vocabSize) => vocabSize < UInt16VocabLimit ? UInt16Code : Int32Code;

    /// <summary>The manifest's name for a dtype code: "uint16" or "int32".</summary>
    public static string TokenTypeName(byte dtype) => dtype switch
    {
        UInt16Code => "uint16",
        Int32Code => "int32",
        _ => throw new InvalidDataException($"unsupported Megatron dtype code {dtype} (CodeLm reads 8 = uint16 and 4 = int32)"),
    };

    public static int ElementSize(byte dtype) => dtype switch
    {
        UInt16Code => 2,
        Int32Code => 4,
        _ => throw new InvalidDataException($"unsupported Megatron dtype code {dtype} (CodeLm reads 8 = uint16 and 4 = int32)"),
    };

    public static string BinPath(string prefix) => prefix + ".bin";
    public static string IdxPath(string prefix) => prefix + ".idx";
}
