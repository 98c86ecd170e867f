using CodeLm.Common;
using TorchSharp;

namespace CodeLm.Model.Native;

/// <summary>Turns a --device value (cpu, cuda, cuda:N, auto) into a TorchSharp device, loading the native runtime first.</summary>
public static class Devices
{
    public static torch.Device Resolve(string spec)
    {
        TorchNativeLoader.EnsureLoaded();
        spec = spec.Trim().ToLowerInvariant();
        if (spec == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (spec == "cpu") return torch.CPU;
        if (spec.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new OptionException("Device",
                    $"{spec} was asked for, but CUDA is not available. This build uses the CPU libtorch; " +
                    "rebuild with -p:TorchBackend=cuda on a machine with an NVIDIA driver, or point CODELM_LIBTORCH_DIR at a CUDA " +
                    "build of libtorch (docs/gpu.md), or use the cpu device.");
            return new torch.Device(spec);
        }
        throw new OptionException("Device", $"'{spec}' is not a device: use cpu, cuda, cuda:N or auto.");
    }
}
