using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Training;

/// <summary>Measures achievable matmul FLOP/s on a device: the peak MFU is reported against.</summary>
public static class MatmulProbe
{
    public static double Measure(Device device, ScalarType dtype, int size = 0, int repeats = 5)
    {
        if (size == 0) size = device.type == DeviceType.CUDA ? 4096 : 1024;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = randn([size, size], dtype, device);
        var b = randn([size, size], dtype, device);
        a.matmul(b).Dispose(); // warm-up
        Sync(device);
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            using var r = a.matmul(b);
            Sync(device);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * size * size * size / best;
    }

    internal static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }
}
