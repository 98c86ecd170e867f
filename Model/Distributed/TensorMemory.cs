using System.Runtime.InteropServices;
using CodeLm.Model.Native;
using static TorchSharp.torch;

namespace CodeLm.Model.Distributed;

/// <summary>
/// Where a tensor's elements are (host or device memory), for collective libraries that take raw buffers. TorchSharp
/// 0.107 has no data_ptr(), so this asks its native glue, which answers with ATen's own data_ptr.
/// </summary>
internal static unsafe class TensorMemory
{
    private static readonly delegate* unmanaged<IntPtr, IntPtr> Data = (delegate* unmanaged<IntPtr, IntPtr>)Export("THSTensor_data");

    public static IntPtr Pointer(Tensor t)
    {
        if (!t.is_contiguous()) throw new ArgumentException("A collective needs a contiguous tensor.");
        return Data(t.Handle);
    }

    private static IntPtr Export(string name)
    {
        TorchNativeLoader.EnsureLoaded();
        if (!NativeLibrary.TryLoad(TorchNativeLoader.GlueFile, typeof(TorchSharp.torch).Assembly, null, out var glue) &&
            !NativeLibrary.TryLoad("LibTorchSharp", typeof(TorchSharp.torch).Assembly, null, out glue))
            throw new DllNotFoundException("TorchSharp's native glue is not loaded.");
        return NativeLibrary.GetExport(glue, name);
    }
}
