using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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
/// </summary>
public sealed unsafe class Int8Weights
{
    private readonly sbyte[] _weights; // pinned, row-major [Out, In]
    private readonly float[] _scales;

    public int Out { get; }
    public int In { get; }

    private Int8Weights(int rows, int columns)
    {
        Out = rows;
        In = columns;
        _weights = GC.AllocateUninitializedArray<sbyte>(checked(rows * columns), pinned: true);
        _scales = new float[rows];
    }

    public static Int8Weights Quantize(Tensor weight)
    {
        if (weight.dim() != 2) throw new ArgumentException($"Expected a 2-D weight, got shape [{string.Join(", ", weight.shape)}].");
        using var scope = NewDisposeScope(); // the detach/convert/copy intermediates
        var w = weight.detach().to(ScalarType.Float32).cpu().contiguous();
        var q = new Int8Weights((int)w.shape[0], (int)w.shape[1]);
        var f = MemoryMarshal.Cast<byte, float>(w.bytes);
        for (int r = 0; r < q.Out; r++)
        {
            var row = f.Slice(r * q.In, q.In);
            float max = 0;
            foreach (var v in row) max = Math.Max(max, Math.Abs(v));
            q._scales[r] = max / 127f;
            float inverse = max == 0 ? 0 : 127f / max;
            var dst = q._weights.AsSpan(r * q.In, q.In);
            for (int c = 0; c < q.In; c++) dst[c] = (sbyte)Math.Round(row[c] * inverse);
        }
        return q;
    }

    /// <summary>Whether a vector kernel (AVX-512, or AVX2 with FMA) runs for rows of <paramref name="columns"/> weights.</summary>
    public static bool IsAccelerated(int columns) =>
        (Avx512F.IsSupported && columns % 16 == 0) || (Avx2.IsSupported && Fma.IsSupported && columns % 8 == 0);

    /// <summary>Bytes held (weights and scales).</summary>
    public long SizeInBytes => _weights.LongLength + 4L * _scales.Length;

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
        fixed (sbyte* w = _weights)
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            if (parts <= 1) { Rows(w, xp, yp, 0, Out); return; }
            nint wa = (nint)w, xa = (nint)xp, ya = (nint)yp; // _weights is pinned; x and y outlive the loop
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
        if (Avx512F.IsSupported && In % 16 == 0) r = FourRowsAvx512(w, x, y, from, to);
        else if (Avx2.IsSupported && Fma.IsSupported && In % 8 == 0) r = FourRowsAvx2(w, x, y, from, to);
        for (; r < to; r++) // the rest, or every row where no vector path applies
        {
            sbyte* row = w + (long)r * In;
            float sum = 0;
            for (int c = 0; c < In; c++) sum += row[c] * x[c];
            y[r] = sum * _scales[r];
        }
    }

    // Four rows at a time share each load of x and keep four independent accumulator chains in flight.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int FourRowsAvx512(sbyte* w, float* x, float* y, int from, int to)
    {
        int r = from;
        for (; r + 4 <= to; r += 4)
        {
            sbyte* p0 = w + (long)r * In, p1 = p0 + In, p2 = p1 + In, p3 = p2 + In;
            Prefetch(p0 + PrefetchAhead, 4 * In, w + (long)to * In);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int c = 0; c < In; c += 16)
            {
                var xv = Avx512F.LoadVector512(x + c);
                a0 = Avx512F.FusedMultiplyAdd(Widen512(p0 + c), xv, a0);
                a1 = Avx512F.FusedMultiplyAdd(Widen512(p1 + c), xv, a1);
                a2 = Avx512F.FusedMultiplyAdd(Widen512(p2 + c), xv, a2);
                a3 = Avx512F.FusedMultiplyAdd(Widen512(p3 + c), xv, a3);
            }
            y[r] = Vector512.Sum(a0) * _scales[r];
            y[r + 1] = Vector512.Sum(a1) * _scales[r + 1];
            y[r + 2] = Vector512.Sum(a2) * _scales[r + 2];
            y[r + 3] = Vector512.Sum(a3) * _scales[r + 3];
        }
        return r;
    }

    // The same loop at half the width, for CPUs without AVX-512 (here it measured 1.95 against 1.6 ms per `small` step).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int FourRowsAvx2(sbyte* w, float* x, float* y, int from, int to)
    {
        int r = from;
        for (; r + 4 <= to; r += 4)
        {
            sbyte* p0 = w + (long)r * In, p1 = p0 + In, p2 = p1 + In, p3 = p2 + In;
            Prefetch(p0 + PrefetchAhead, 4 * In, w + (long)to * In);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int c = 0; c < In; c += 8)
            {
                var xv = Avx.LoadVector256(x + c);
                a0 = Fma.MultiplyAdd(Widen256(p0 + c), xv, a0);
                a1 = Fma.MultiplyAdd(Widen256(p1 + c), xv, a1);
                a2 = Fma.MultiplyAdd(Widen256(p2 + c), xv, a2);
                a3 = Fma.MultiplyAdd(Widen256(p3 + c), xv, a3);
            }
            y[r] = Vector256.Sum(a0) * _scales[r];
            y[r + 1] = Vector256.Sum(a1) * _scales[r + 1];
            y[r + 2] = Vector256.Sum(a2) * _scales[r + 2];
            y[r + 3] = Vector256.Sum(a3) * _scales[r + 3];
        }
        return r;
    }

    // Reading the weights from memory one row group at a time leaves the bandwidth half used (measured: the 12.6 MB head
    // of `small` in 760 us, against 340 us for a plain sum of as many bytes); asking for the bytes 16 KB ahead keeps more
    // loads in flight (400 us).
    private const int PrefetchAhead = 16 * 1024;

    private static void Prefetch(sbyte* from, int bytes, sbyte* end)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < bytes; i += 64)
            if (from + i < end) Sse.Prefetch0(from + i);
    }

    private static Vector512<float> Widen512(sbyte* p) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(p)));

    private static Vector256<float> Widen256(sbyte* p) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p));
}
