using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeLm.Model.Training;

/// <summary>
/// The CPU's peak fp32 FLOP/s: cores x FMA issue per cycle x vector lanes x 2 x clock, measured rather than looked up,
/// because a VM rarely tells the real clock and the FMA width of a core (Zen 4 runs AVX-512 on 256-bit halves) is what
/// bounds it. Each thread runs independent chains of fused multiply-adds on registers only, enough of them to cover the
/// FMA latency on every pipe, so nothing but the FMA units limits it. MFU divides achieved training FLOP/s by this;
/// a matmul probe is a measure of a BLAS library, not of the hardware.
/// </summary>
public static class CpuPeak
{
    /// <summary>Peak fp32 FLOP/s with <paramref name="threads"/> threads (one per core), best of a few timed runs.</summary>
    public static CpuPeakResult Measure(int threads, double seconds = 0.2)
    {
        if (!Fma.IsSupported || !Avx.IsSupported)
            return new CpuPeakResult(0, threads, 0, "no FMA/AVX: peak not measured");
        var width = Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 512 : 256;
        double best = 0;
        for (int round = 0; round < 3; round++)
        {
            var results = new double[threads];
            var workers = Enumerable.Range(0, threads).Select(i => new Thread(() => results[i] = Run(width, seconds / 3))).ToArray();
            foreach (var w in workers) w.Start();
            foreach (var w in workers) w.Join();
            best = Math.Max(best, results.Sum());
        }
        return new CpuPeakResult(best, threads, width, $"{threads} thread{(threads == 1 ? "" : "s")} x {width}-bit FMA chains");
    }

    private static double Run(int width, double seconds)
    {
        long iterations = 0;
        var sw = Stopwatch.StartNew();
        float sink = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            sink += width == 512 ? Chains512(1 << 16) : Chains256(1 << 16);
            iterations += 1 << 16;
        }
        double elapsed = sw.Elapsed.TotalSeconds;
        GC.KeepAlive(sink);
        int lanes = width / 32;
        return iterations * 12.0 * lanes * 2 / elapsed; // 12 independent FMAs per iteration, 2 FLOP each per lane
    }

    // Twelve independent accumulators: FMA latency (4 cycles) x 2 pipes = 8 in flight, with room to spare.
    private static float Chains256(int n)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < n; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static float Chains512(int n)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < n; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c); a1 = Avx512F.FusedMultiplyAdd(a1, m, c); a2 = Avx512F.FusedMultiplyAdd(a2, m, c);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, c); a4 = Avx512F.FusedMultiplyAdd(a4, m, c); a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c); a7 = Avx512F.FusedMultiplyAdd(a7, m, c); a8 = Avx512F.FusedMultiplyAdd(a8, m, c);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, c); a10 = Avx512F.FusedMultiplyAdd(a10, m, c); a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}

/// <summary>Measured peak fp32 FLOP/s, the threads and vector width it used, and how it was measured.</summary>
public sealed record CpuPeakResult(double FlopsPerSecond, int Threads, int VectorBits, string Method);
