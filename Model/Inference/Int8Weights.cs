using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CodeLm.Model.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Inference;

/// <summary>
/// A linear layer's weight [Out, In] quantized to int8 per output row (symmetric, scale = max|w| / 127), with a SIMD
/// matrix-vector product on float32 activations. Decoding one token reads every weight once, so on a CPU it is bound by
/// memory bandwidth: a quarter of float32's bytes is most of the speed-up (see docs/generation.md). Activations stay
/// float32: quantizing them too (AVX-VNNI) measured no faster here, the loop already being bound by the weight reads.
/// The float32 weights stay the source of truth (training, checkpoints, and prompts unless bfloat16 copies are used, see
/// <see cref="InferenceLinear"/>); re-quantize after changing them.
///
/// Where a vector kernel runs, the weights are stored in tiles of four rows by sixteen columns, one 64-byte cache line
/// each, in the order the kernel reads them: the product then streams memory front to back. Read row-major, four rows
/// at a time are four streams that the hardware prefetcher follows badly; software prefetching recovered part of it
/// (the 136 MB head of a 0.5B model at 12-18 GB/s on one core), the tiles all of it (26 GB/s, plain reads).
/// </summary>
public sealed unsafe class Int8Weights : IDisposable
{
    private const int TileRows = 4, TileColumns = 16;
    private readonly HugePageBuffer _buffer; // tiles of the first Out/4·4 rows (row-major where not Tiled), then any last rows row-major
    private readonly float[] _scales;

    public int Out { get; }
    public int In { get; }

    /// <summary>Whether the weights are stored in tiles for the vector kernels (rows of a multiple of 16 on AVX2 or AVX-512).</summary>
    public bool Tiled { get; }

    private Int8Weights(int rows, int columns)
    {
        Out = rows;
        In = columns;
        Tiled = IsAccelerated(columns);
        _buffer = new HugePageBuffer((long)rows * columns);
        _scales = new float[rows];
    }

    private sbyte* Weights => (sbyte*)_buffer.Pointer;

    public void Dispose() => _buffer.Dispose();

    public static Int8Weights Quantize(Tensor weight)
    {
        if (weight.dim() != 2) throw new ArgumentException($"Expected a 2-D weight, got shape [{string.Join(", ", weight.shape)}].");
        using var scope = NewDisposeScope(); // the detach/convert/copy intermediates
        var w = weight.detach().to(ScalarType.Float32).cpu().contiguous();
        var q = new Int8Weights((int)w.shape[0], (int)w.shape[1]);
        fixed (float* f = MemoryMarshal.Cast<byte, float>(w.bytes))
        {
            nint source = (nint)f; // pinned for the loop; rows are independent, so they quantize in parallel
            Parallel.For(0, q.Out, r => q.QuantizeRow(r, new ReadOnlySpan<float>((float*)source + (long)r * q.In, q.In)));
        }
        return q;
    }

    private void QuantizeRow(int r, ReadOnlySpan<float> row)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row);
        max = Math.Abs(max);
        _scales[r] = max / 127f;
        float inverse = max == 0 ? 0 : 127f / max;
        sbyte* dst = Weights + Offset(r, 0);
        bool tiled = Tiled && r < Out / TileRows * TileRows;
        for (int c = 0; c < In; c++)
            dst[tiled ? (c / TileColumns) * TileRows * TileColumns + c % TileColumns : c] = (sbyte)Math.Round(row[c] * inverse);
    }

    // Where weight (r, c) is stored: in its tile, or row-major for rows past the last whole tile and for untiled weights.
    private long Offset(int r, int c)
    {
        if (!Tiled || r >= Out / TileRows * TileRows) return (long)r * In + c;
        long tileRow = r / TileRows * (long)TileRows * In;
        return tileRow + (long)(c / TileColumns) * TileRows * TileColumns + r % TileRows * TileColumns + c % TileColumns;
    }

    /// <summary>Whether a vector kernel (AVX-512, or AVX2 with FMA) runs for rows of <paramref name="columns"/> weights.</summary>
    public static bool IsAccelerated(int columns) =>
        (Avx512F.IsSupported || (Avx2.IsSupported && Fma.IsSupported)) && columns % TileColumns == 0;

    /// <summary>Bytes held (weights and scales).</summary>
    public long SizeInBytes => _buffer.Length + 4L * _scales.Length;

    /// <summary><paramref name="x"/> [..., In] float32 on the CPU times the transposed weight: [..., Out].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32 || x.shape[^1] != In)
            throw new ArgumentException($"Int8 weights take float32 CPU input with {In} features, got {x.dtype} [{string.Join(", ", x.shape)}] on {x.device}.");
        using var input = x.contiguous();
        long rows = input.numel() / In;
        var shape = x.shape.ToArray();
        shape[^1] = Out;
        var output = empty(shape, ScalarType.Float32);
        var xs = MemoryMarshal.Cast<byte, float>(input.bytes);
        var ys = MemoryMarshal.Cast<byte, float>(output.bytes);
        for (int r = 0; r < rows; r++) MatVec(xs.Slice(r * In, In), ys.Slice(r * Out, Out));
        return output;
    }

    /// <summary>y = W x, with y of length <see cref="Out"/> and x of length <see cref="In"/>.</summary>
    public void MatVec(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != In || y.Length != Out) throw new ArgumentException($"MatVec needs x of {In} and y of {Out} elements.");
        int parts = (long)Out * In >= ParallelFrom ? Math.Min(Threads, Out / 64) : 1;
        var w = Weights;
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            if (parts <= 1) { Rows(w, xp, yp, 0, Out); return; }
            nint wa = (nint)w, xa = (nint)xp, ya = (nint)yp; // native weights; x and y outlive the loop
            Parallel.For(0, parts, p => Rows((sbyte*)wa, (float*)xa, (float*)ya, Out * p / parts & ~3, p == parts - 1 ? Out : Out * (p + 1) / parts & ~3));
        }
    }

    // Rows are split over the cores for matrices from 1M weights (a Qwen2.5-Coder-0.5B layer's 4.4M: 224 -> 153 us
    // alone; the whole model decoded at 17.2 vs 16.0 tok/s with a 16M threshold). It pays only while libtorch's own
    // threads are idle-parked, i.e. with one torch thread for steps (GeneratorOptions.OneThreadSteps): with two, its
    // spinning workers held the other core and decoding fell to 10 tok/s. Smaller matrices only add the hand-off.
    private const long ParallelFrom = 1L << 20;

    /// <summary>Cores a large product may use (all of them unless a caller limits it, as a benchmark at fixed threads does).</summary>
    public static int Threads { get; set; } = Environment.ProcessorCount;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot SIMD loops: skip tier-0 code, which is ~8x slower here
    private void Rows(sbyte* w, float* x, float* y, int from, int to)
    {
        int r = from;
        if (Tiled) r = Avx512F.IsSupported ? TilesAvx512(w, x, y, from, to) : TilesAvx2(w, x, y, from, to);
        for (; r < to; r++) // rows past the last whole tile, or every row of untiled weights
        {
            sbyte* row = w + (long)r * In;
            float sum = 0;
            for (int c = 0; c < In; c++) sum += row[c] * x[c];
            y[r] = sum * _scales[r];
        }
    }

    // One tile (four rows by sixteen columns) per step: four independent accumulator chains share each load of x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int TilesAvx512(sbyte* w, float* x, float* y, int from, int to)
    {
        int r = from;
        for (; r + TileRows <= to; r += TileRows)
        {
            sbyte* p = w + (long)r * In;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int c = 0; c < In; c += TileColumns, p += TileRows * TileColumns)
            {
                var xv = Avx512F.LoadVector512(x + c);
                a0 = Avx512F.FusedMultiplyAdd(Widen512(p), xv, a0);
                a1 = Avx512F.FusedMultiplyAdd(Widen512(p + 16), xv, a1);
                a2 = Avx512F.FusedMultiplyAdd(Widen512(p + 32), xv, a2);
                a3 = Avx512F.FusedMultiplyAdd(Widen512(p + 48), xv, a3);
            }
            y[r] = Vector512.Sum(a0) * _scales[r];
            y[r + 1] = Vector512.Sum(a1) * _scales[r + 1];
            y[r + 2] = Vector512.Sum(a2) * _scales[r + 2];
            y[r + 3] = Vector512.Sum(a3) * _scales[r + 3];
        }
        return r;
    }

    // The same tiles at half the vector width, for CPUs without AVX-512.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int TilesAvx2(sbyte* w, float* x, float* y, int from, int to)
    {
        int r = from;
        for (; r + TileRows <= to; r += TileRows)
        {
            sbyte* p = w + (long)r * In;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int c = 0; c < In; c += TileColumns, p += TileRows * TileColumns)
            {
                var lo = Avx.LoadVector256(x + c);
                var hi = Avx.LoadVector256(x + c + 8);
                a0 = Fma.MultiplyAdd(Widen256(p + 8), hi, Fma.MultiplyAdd(Widen256(p), lo, a0));
                a1 = Fma.MultiplyAdd(Widen256(p + 24), hi, Fma.MultiplyAdd(Widen256(p + 16), lo, a1));
                a2 = Fma.MultiplyAdd(Widen256(p + 40), hi, Fma.MultiplyAdd(Widen256(p + 32), lo, a2));
                a3 = Fma.MultiplyAdd(Widen256(p + 56), hi, Fma.MultiplyAdd(Widen256(p + 48), lo, a3));
            }
            y[r] = Vector256.Sum(a0) * _scales[r];
            y[r + 1] = Vector256.Sum(a1) * _scales[r + 1];
            y[r + 2] = Vector256.Sum(a2) * _scales[r + 2];
            y[r + 3] = Vector256.Sum(a3) * _scales[r + 3];
        }
        return r;
    }

    private static Vector512<float> Widen512(sbyte* p) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(p)));

    private static Vector256<float> Widen256(sbyte* p) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p));
}
