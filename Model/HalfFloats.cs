using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CodeLm.Model;

/// <summary>16-bit floats (safetensors' F16 and BF16, little-endian) widened to float32, exactly.</summary>
internal static class HalfFloats
{
    public static bool IsHalf(string dtype) => dtype is "F16" or "BF16";

    /// <summary>Widens <paramref name="source"/> (2 bytes a value, <paramref name="dtype"/> F16 or BF16) into <paramref name="into"/>.</summary>
    public static void Widen(string dtype, ReadOnlySpan<byte> source, Span<float> into)
    {
        var halves = MemoryMarshal.Cast<byte, ushort>(source);
        if (halves.Length != into.Length) throw new ArgumentException($"{halves.Length} halves into {into.Length} floats.");
        if (dtype == "BF16") WidenBFloat16(halves, MemoryMarshal.Cast<float, uint>(into));
        else if (dtype == "F16")
            for (var i = 0; i < halves.Length; i++) into[i] = (float)BitConverter.UInt16BitsToHalf(halves[i]);
        else throw new ArgumentException($"{dtype} is not a 16-bit float type.", nameof(dtype));
    }

    // A bfloat16 is the upper half of a float32's bits; the vector loop matters at load (hundreds of millions of values).
    private static void WidenBFloat16(ReadOnlySpan<ushort> halves, Span<uint> bits)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<ushort>.Count <= halves.Length; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(halves.Slice(i, Vector256<ushort>.Count)));
                (lower << 16).CopyTo(bits.Slice(i, Vector256<uint>.Count));
                (upper << 16).CopyTo(bits.Slice(i + Vector256<uint>.Count, Vector256<uint>.Count));
            }
        for (; i < halves.Length; i++) bits[i] = (uint)halves[i] << 16;
    }
}
