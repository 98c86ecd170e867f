namespace CodeLm.Model.Gguf;

/// <summary>
/// Hugging Face's Llama rotates the pairs (j, j + d/2) of each head (rotate_half); llama.cpp's "llama" architecture
/// rotates adjacent pairs (2j, 2j + 1) (ggml's "normal" rope). The two agree once each head's rows of the Q and K
/// projections are interleaved: new row 2j + s of a head is old row s·d/2 + j (s = 0, 1). llama.cpp's own converter
/// does the same for its "llama" models; its "qwen2" and "starcoder2" architectures use the NeoX rope, which is
/// rotate_half already, so their rows are taken as they are.
/// </summary>
internal static class RopePermutation
{
    /// <summary>Rows of <paramref name="values"/> (heads·headDim rows of <paramref name="columns"/> values, or a bias when columns is 1) reordered.</summary>
    public static float[] Interleave(float[] values, int heads, int columns)
    {
        long rows = values.LongLength / columns;
        if (rows % heads != 0 || rows / heads % 2 != 0)
            throw new InvalidDataException($"cannot split {rows} rows into {heads} heads of an even size for the rope permutation.");
        int d = (int)(rows / heads), half = d / 2;
        var result = new float[values.Length];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int s = 0; s < 2; s++)
                    Array.Copy(values, ((long)h * d + s * half + j) * columns, result, ((long)h * d + 2 * j + s) * columns, columns);
        return result;
    }
}
