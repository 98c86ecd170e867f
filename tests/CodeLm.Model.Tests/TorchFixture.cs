using CodeLm.Model.Native;

namespace CodeLm.Model.Tests;

/// <summary>Loads the native runtime once and keeps torch to one thread so suites sharing the CPU stay predictable.</summary>
public static class Torch
{
    private static readonly object Gate = new();
    private static bool _ready;

    public static void Init()
    {
        lock (Gate)
        {
            if (_ready) return;
            TorchNativeLoader.EnsureLoaded();
            TorchSharp.torch.set_num_threads(1);
            _ready = true;
        }
    }
}
