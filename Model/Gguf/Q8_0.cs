using System.Buffers.Binary;

namespace CodeLm.Model.Gguf;

/// <summary>
/// ggml's Q8_0 quantization: each run of 32 consecutive values along a row becomes one block of 34 bytes, an fp16
/// scale d followed by 32 int8s q, and decodes as d·q. This follows ggml's reference rule (quantize_row_q8_0_ref):
/// d = max|x| / 127 kept in float32 while quantizing, q = round-half-away-from-zero(x / d) via the float32 inverse
/// 1/d (0 for an all-zero block), and only the stored d is rounded to fp16. Using the same rule as llama.cpp's own
/// quantizer makes our files bit-identical to its output for the same floats, so accuracy numbers carry over.
/// </summary>
public static class Q8_0
{
    public const int BlockSize = 32;
    public const int BlockBytes = 2 + BlockSize;

    /// <summary>Quantizes <paramref name="values"/> (a multiple of 32 long) into <paramref name="blocks"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> values, Span<byte> blocks)
    {
        if (values.Length % BlockSize != 0) throw new ArgumentException($"Q8_0 needs a multiple of {BlockSize} values, got {values.Length}.", nameof(values));
        if (blocks.Length < values.Length / BlockSize * BlockBytes) throw new ArgumentException("output too small", nameof(blocks));
        for (int b = 0; b < values.Length / BlockSize; b++)
        {
            var x = values.Slice(b * BlockSize, BlockSize);
            var o = blocks.Slice(b * BlockBytes, BlockBytes);
            float amax = 0;
            foreach (var v in x) amax = MathF.Max(amax, MathF.Abs(v));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(o, (Half)d);
            for (int i = 0; i < BlockSize; i++)
                o[2 + i] = unchecked((byte)(sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero));
        }
    }

    /// <summary>The values the blocks stand for (ggml's dequantize_row_q8_0).</summary>
    public static void Dequantize(ReadOnlySpan<byte> blocks, Span<float> values)
    {
        for (int b = 0; b < values.Length / BlockSize; b++)
        {
            var o = blocks.Slice(b * BlockBytes, BlockBytes);
            float d = (float)BinaryPrimitives.ReadHalfLittleEndian(o);
            for (int i = 0; i < BlockSize; i++) values[b * BlockSize + i] = d * (sbyte)o[2 + i];
        }
    }
}
