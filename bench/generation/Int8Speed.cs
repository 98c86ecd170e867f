using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using CodeLm.Model.Inference;
using CodeLm.Model.Native;
using static TorchSharp.torch;

/// <summary>
/// The int8 matrix-vector product alone, at Qwen2.5-Coder-0.5B's shapes, on `--threads` cores: each weight read once per
/// call, so GB/s = weights / time. The layer-sized matrices stay in the 32 MB L3 across calls here; the 136 MB head
/// streams from memory each call, as every matrix does in a real decoding step. Anchor, same run: a plain vector sum of
/// the head's bytes in the same kind of memory (what reading alone costs). Huge pages on and off are interleaved.
/// </summary>
static class Int8Speed
{
    public static void Run(int repeats)
    {
        int threads = Int8Weights.Threads;
        Console.WriteLine($"# int8 matrix-vector product, {threads} thread(s), {repeats} repeats, median (min-max) GB/s of weights read");
        foreach (var (o, i) in new[] { (1152, 896), (896, 896), (9728, 896), (896, 4864), (151936, 896) })
        {
            using var w = randn(o, i);
            var results = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
            var reads = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
            for (int r = 0; r < repeats; r++)
                foreach (var huge in new[] { true, false })
                {
                    HugePageBuffer.Enabled = huge;
                    using var q = Int8Weights.Quantize(w);
                    results[huge].Add(MatVecGBs(q));
                    if (o * (long)i > 64 << 20) reads[huge].Add(ReadGBs(o * (long)i, threads));
                }
            HugePageBuffer.Enabled = true;
            var line = $"[{o}x{i}] {o * (long)i / 1e6:F1} MB: huge pages {Stat(results[true])}, 4 KiB pages {Stat(results[false])}";
            if (reads[true].Count > 0) line += $"; plain read of as many bytes: huge {Stat(reads[true])}, 4 KiB {Stat(reads[false])}";
            Console.WriteLine(line);
        }
    }

    private static double MatVecGBs(Int8Weights q)
    {
        var x = new float[q.In];
        var y = new float[q.Out];
        for (int r = 0; r < 3; r++) q.MatVec(x, y);
        int n = (int)Math.Max(10, 2e9 / ((long)q.Out * q.In));
        var clock = Stopwatch.StartNew();
        for (int r = 0; r < n; r++) q.MatVec(x, y);
        return (double)q.Out * q.In * n / clock.Elapsed.TotalSeconds / 1e9;
    }

    private static unsafe double ReadGBs(long bytes, int threads)
    {
        using var buffer = new HugePageBuffer(bytes);
        new Span<byte>(buffer.Pointer, checked((int)bytes)).Fill(1);
        nint start = (nint)buffer.Pointer;
        long sink = 0;
        void Pass() => Parallel.For(0, threads, p => Interlocked.Add(ref sink, Sum((byte*)start + bytes * p / threads / 64 * 64, bytes / threads / 64 * 64)));
        Pass();
        var clock = Stopwatch.StartNew();
        for (int r = 0; r < 10; r++) Pass();
        GC.KeepAlive(sink);
        return bytes * 10.0 / clock.Elapsed.TotalSeconds / 1e9;
    }

    private static unsafe long Sum(byte* p, long n)
    {
        Vector512<int> a = default, b = default;
        for (long i = 0; i + 128 <= n; i += 128)
        {
            a += Vector512.Load((int*)(p + i));
            b += Vector512.Load((int*)(p + i + 64));
        }
        return Vector512.Sum(a + b);
    }

    private static string Stat(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{s[s.Length / 2]:F1} ({s[0]:F1}-{s[^1]:F1})");
    }
}
