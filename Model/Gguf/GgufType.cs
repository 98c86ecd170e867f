namespace CodeLm.Model.Gguf;

/// <summary>
/// How a GGUF export stores its weight matrices. Norm weights, biases and every other 1-D tensor stay F32 whatever is
/// chosen (as llama.cpp's own converter does): they are tiny, and rounding them costs accuracy for no space.
/// </summary>
public enum GgufType
{
    F32,
    F16,
    /// <summary>ggml's Q8_0: blocks of 32 values, one fp16 scale and 32 int8s (8.5 bits a weight).</summary>
    Q8_0,
}

/// <summary>ggml's numbering of tensor types and the sizes llama.cpp computes from them (ggml.h: enum ggml_type).</summary>
internal static class GgmlType
{
    public const uint F32 = 0, F16 = 1, Q8_0 = 8;

    public static uint Id(GgufType t) => t switch
    {
        GgufType.F32 => F32,
        GgufType.F16 => F16,
        GgufType.Q8_0 => Q8_0,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>Bytes of a tensor of <paramref name="count"/> values (count a multiple of 32 for Q8_0).</summary>
    public static long ByteSize(GgufType t, long count) => t switch
    {
        GgufType.F32 => count * 4,
        GgufType.F16 => count * 2,
        GgufType.Q8_0 => count / Gguf.Q8_0.BlockSize * Gguf.Q8_0.BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>llama.cpp's general.file_type (enum llama_ftype): ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q8_0 = 7.</summary>
    public static uint FileType(GgufType t) => t switch
    {
        GgufType.F32 => 0,
        GgufType.F16 => 1,
        GgufType.Q8_0 => 7,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };
}
