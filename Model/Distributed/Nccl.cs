using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Distributed;

/// <summary>
/// Collectives over NCCL for CUDA ranks, one GPU per process. libnccl.so.2 comes with every CUDA build of PyTorch and
/// libtorch; it is looked for in CODELM_LIBTORCH_DIR, then on the library path. Collectives run on the default stream,
/// which libtorch also computes on, so they are ordered with the backward pass; the wait polls the stream so that a dead
/// peer ends in a timeout and an aborted communicator rather than a hang.
/// </summary>
internal sealed unsafe class Nccl : ICollective
{
    private const int UniqueIdBytes = 128, Float32 = 7, Sum = 0, NotReady = 600; // ncclFloat32, ncclSum, cudaErrorNotReady

    [StructLayout(LayoutKind.Sequential, Size = UniqueIdBytes)]
    private struct UniqueId { private fixed byte _bytes[UniqueIdBytes]; }

    private readonly IntPtr _nccl, _cudart, _comm;
    private readonly TimeSpan _timeout;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> _allReduce;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> _broadcast;
    private readonly delegate* unmanaged<IntPtr, int> _streamQuery;
    private bool _aborted, _disposed;

    public int Rank { get; }
    public int WorldSize { get; }
    public string Library { get; }

    public Nccl(LaunchEnvironment launch, TimeSpan timeout)
    {
        (_timeout, Rank, WorldSize) = (timeout, launch.Rank, launch.WorldSize);
        _nccl = Load(["libnccl.so.2", "libnccl.so"], "libnccl", "NCCL (libnccl.so.2, which CUDA builds of PyTorch and libtorch bring)");
        _cudart = Load(["libcudart.so.12", "libcudart.so.11.0", "libcudart.so"], "libcudart", "the CUDA runtime (libcudart)");
        _allReduce = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Symbol(_nccl, "ncclAllReduce");
        _broadcast = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Symbol(_nccl, "ncclBroadcast");
        _streamQuery = (delegate* unmanaged<IntPtr, int>)Symbol(_cudart, "cudaStreamQuery");
        // NCCL binds a communicator to the current device, which must be this rank's GPU.
        int setDevice = ((delegate* unmanaged<int, int>)Symbol(_cudart, "cudaSetDevice"))(launch.LocalRank);
        if (setDevice != 0) throw new InvalidOperationException($"cudaSetDevice({launch.LocalRank}) failed with CUDA error {setDevice}.");

        int version;
        Check(((delegate* unmanaged<int*, int>)Symbol(_nccl, "ncclGetVersion"))(&version), "ncclGetVersion");
        Library = $"NCCL {version / 10000}.{version / 100 % 100}.{version % 100}";
        UniqueId id;
        if (launch.IsPrimary) Check(((delegate* unmanaged<UniqueId*, int>)Symbol(_nccl, "ncclGetUniqueId"))(&id), "ncclGetUniqueId");
        var bytes = Rendezvous.Share(launch.IsPrimary ? new ReadOnlySpan<byte>(&id, UniqueIdBytes).ToArray() : null, launch, UniqueIdBytes, timeout);
        bytes.CopyTo(new Span<byte>(&id, UniqueIdBytes));
        IntPtr comm;
        Check(((delegate* unmanaged<IntPtr*, int, UniqueId, int, int>)Symbol(_nccl, "ncclCommInitRank"))(&comm, WorldSize, id, Rank), "ncclCommInitRank");
        _comm = comm;
    }

    public void AllReduceSum(Tensor values)
    {
        CheckDevice(values);
        var p = TensorMemory.Pointer(values);
        Check(_allReduce(p, p, (nuint)values.numel(), Float32, Sum, _comm, IntPtr.Zero), "ncclAllReduce");
        Wait("all-reduce");
    }

    public void Broadcast(Tensor values, int root)
    {
        CheckDevice(values);
        var p = TensorMemory.Pointer(values);
        Check(_broadcast(p, p, (nuint)values.numel(), Float32, root, _comm, IntPtr.Zero), "ncclBroadcast");
        Wait("broadcast");
    }

    public void Barrier()
    {
        using var one = ones(1, ScalarType.Float32, device: new Device(DeviceType.CUDA, -1));
        AllReduceSum(one);
    }

    private void Wait(string operation)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int state = _streamQuery(IntPtr.Zero);
            if (state == 0) return;
            if (state != NotReady) throw new InvalidOperationException($"CUDA error {state} during the {operation}.");
            if (clock.Elapsed > _timeout)
            {
                ((delegate* unmanaged<IntPtr, int>)Symbol(_nccl, "ncclCommAbort"))(_comm);
                _aborted = true;
                throw new CollectiveTimeoutException(operation, Rank, WorldSize, _timeout);
            }
            Thread.Sleep(0);
        }
    }

    private static void CheckDevice(Tensor t)
    {
        if (t.device_type != DeviceType.CUDA || t.dtype != ScalarType.Float32)
            throw new ArgumentException($"NCCL reduces float32 CUDA tensors here; got {t.dtype} on {t.device}.");
    }

    private void Check(int code, string call)
    {
        if (code == 0) return;
        var text = NativeLibrary.TryGetExport(_nccl, "ncclGetErrorString", out var f) ? Marshal.PtrToStringAnsi(((delegate* unmanaged<int, IntPtr>)f)(code)) : null;
        throw new InvalidOperationException($"{call} failed: NCCL error {code}{(text != null ? $" ({text})" : "")}.");
    }

    private static IntPtr Symbol(IntPtr lib, string name) => NativeLibrary.TryGetExport(lib, name, out var address) ? address
        : throw new CollectiveUnavailableException($"{name} is missing from the loaded library.");

    private static IntPtr Load(string[] names, string prefix, string what)
    {
        var dir = Environment.GetEnvironmentVariable("CODELM_LIBTORCH_DIR");
        IEnumerable<string> inDir = dir != null && Directory.Exists(dir) ? Directory.EnumerateFiles(dir, prefix + "*.so*").Order() : [];
        foreach (var candidate in inDir.Concat(names))
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        throw new CollectiveUnavailableException($"{what} was not found in CODELM_LIBTORCH_DIR or on the library path: GPU training across processes needs it.");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_aborted) ((delegate* unmanaged<IntPtr, int>)Symbol(_nccl, "ncclCommDestroy"))(_comm);
    }
}
