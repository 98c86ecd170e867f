using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Native;

/// <summary>What a smoke run of the model runtime found: how the native library loaded, and that a net learns.</summary>
public sealed record RuntimeReport(string LoaderMode, string? PatchedPath, string Device, string TorchVersion, int Threads,
    float LossBefore, float LossAfter, double Milliseconds)
{
    /// <summary>Where libtorch_cpu.so is mapped in this process (from /proc/self/maps), the proof of which libtorch runs.</summary>
    public string? LibtorchMapped { get; init; }
    public bool CudaAvailable { get; init; }
    public int CudaDevices { get; init; }
    /// <summary>Page faults of four 128 MiB tensor reallocations on a worker thread (<see cref="NativeAllocator.ReallocationFaults"/>).</summary>
    public long ReallocationFaults { get; init; }
}

public static class RuntimeCheck
{
    /// <summary>Fits a tiny MLP to a fixed random regression for <paramref name="steps"/> Adam steps.</summary>
    public static RuntimeReport Run(string device = "cpu", int steps = 50)
    {
        var dev = Devices.Resolve(device);
        var sw = Stopwatch.StartNew();
        torch.manual_seed(0);
        using var net = nn.Sequential(nn.Linear(16, 64), nn.GELU(), nn.Linear(64, 1)).to(dev);
        using var opt = optim.Adam(net.parameters(), lr: 1e-2);
        using var x = randn(256, 16, device: dev);
        using var y = (x.sum(1, keepdim: true) * 0.5).sin();
        float first = 0, last = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.mse_loss(net.call(x), y);
            loss.backward();
            opt.step();
            last = loss.item<float>();
            if (i == 0) first = last;
        }
        return new RuntimeReport(TorchNativeLoader.Mode ?? "?", TorchNativeLoader.PatchedPath, dev.ToString(),
            torch.__version__, torch.get_num_threads(), first, last, sw.Elapsed.TotalMilliseconds)
        {
            LibtorchMapped = TorchNativeLoader.MappedPath("libtorch_cpu.so"),
            CudaAvailable = torch.cuda.is_available(),
            CudaDevices = torch.cuda.is_available() ? torch.cuda.device_count() : 0,
            ReallocationFaults = NativeAllocator.ReallocationFaults(),
        };
    }
}
