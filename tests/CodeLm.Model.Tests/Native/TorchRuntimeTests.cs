using CodeLm.Common;
using CodeLm.Model.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Tests.Native;

public class TorchRuntimeTests
{
    [Fact]
    public void Forward_and_backward_run_in_process_on_cpu()
    {
        var device = Devices.Resolve("cpu");
        Assert.Contains(TorchNativeLoader.Mode, new[] { "original", "patched" });

        torch.manual_seed(1);
        using var lin = nn.Linear(8, 4).to(device);
        using var x = randn(3, 8, dtype: float64).to(float32);
        using var y = lin.call(x).pow(2).sum();
        y.backward();

        // d/dW sum((Wx+b)^2) = 2 (Wx+b) x^T, computed independently in plain C#.
        var w = lin.weight!.data<float>().ToArray();
        var b = lin.bias!.data<float>().ToArray();
        var xs = x.data<float>().ToArray();
        var grad = lin.weight!.grad!.data<float>().ToArray();
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < 8; i++)
            {
                double g = 0;
                for (int n = 0; n < 3; n++)
                {
                    double z = b[o];
                    for (int k = 0; k < 8; k++) z += w[o * 8 + k] * xs[n * 8 + k];
                    g += 2 * z * xs[n * 8 + i];
                }
                Assert.Equal(g, grad[o * 8 + i], 3);
            }
    }

    [Fact]
    public void Smoke_training_reduces_the_loss()
    {
        var report = RuntimeCheck.Run("cpu", steps: 40);
        Assert.True(report.LossAfter < report.LossBefore * 0.5, $"loss {report.LossBefore} -> {report.LossAfter}");
    }

    [Fact]
    public void Unknown_or_unavailable_devices_get_a_clear_error()
    {
        Assert.Equal("Device", Assert.Throws<OptionException>(() => Devices.Resolve("tpu")).Option);
        if (!torch.cuda.is_available())
        {
            // Typed, so the CLI can name its flag (--device); the library names only the setting and the fix.
            var e = Assert.Throws<OptionException>(() => Devices.Resolve("cuda"));
            Assert.Equal("Device", e.Option);
            Assert.Contains("cpu device", e.Problem);
        }
    }
}
