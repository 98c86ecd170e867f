using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Distributed;

/// <summary>
/// Collectives over Open MPI (Debian's openmpi-bin, or any Open MPI 3–5: libmpi.so.40), for CPU ranks started by mpirun
/// or by srun with PMIx. A thin binding rather than MPI.NET: MPI.NET 1.4 binds MS-MPI's msmpi.dll and its integer
/// handles, while Open MPI's handles are addresses of its predefined objects, and MPI.NET has no non-blocking
/// collectives, which the timeout needs: each collective is started with MPI_I* and polled against a deadline.
/// </summary>
internal sealed unsafe class OpenMpi : ICollective
{
    private static readonly string[] LibraryNames = ["libmpi.so.40", "libmpi.so"];
    private static readonly IntPtr InPlace = 1; // MPI_IN_PLACE in Open MPI's mpi.h
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(500);

    private readonly IntPtr _lib, _world, _float, _sum;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int> _iallreduce;
    private readonly delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int> _ibcast;
    private readonly delegate* unmanaged<IntPtr, IntPtr*, int> _ibarrier;
    private readonly delegate* unmanaged<IntPtr*, int*, IntPtr, int> _test;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _stop;
    private bool _broken, _disposed;

    public int Rank { get; }
    public int WorldSize { get; }
    public string Library { get; }

    /// <param name="stop">Signalled when the launcher ends the job (its SIGTERM after another rank died): a wait then gives up.</param>
    public OpenMpi(TimeSpan timeout, CancellationToken stop)
    {
        (_timeout, _stop) = (timeout, stop);
        _lib = Load();
        _world = Symbol("ompi_mpi_comm_world");
        _float = Symbol("ompi_mpi_float");
        _sum = Symbol("ompi_mpi_op_sum");
        _iallreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int>)Symbol("MPI_Iallreduce");
        _ibcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int>)Symbol("MPI_Ibcast");
        _ibarrier = (delegate* unmanaged<IntPtr, IntPtr*, int>)Symbol("MPI_Ibarrier");
        _test = (delegate* unmanaged<IntPtr*, int*, IntPtr, int>)Symbol("MPI_Test");

        int provided, rank, size;
        // FUNNELED: only the training thread calls MPI, though libtorch runs its own threads.
        Check(((delegate* unmanaged<int*, IntPtr, int, int*, int>)Symbol("MPI_Init_thread"))(null, 0, 1, &provided), "MPI_Init_thread");
        Check(((delegate* unmanaged<IntPtr, int*, int>)Symbol("MPI_Comm_rank"))(_world, &rank), "MPI_Comm_rank");
        Check(((delegate* unmanaged<IntPtr, int*, int>)Symbol("MPI_Comm_size"))(_world, &size), "MPI_Comm_size");
        (Rank, WorldSize) = (rank, size);
        Library = VersionString();
    }

    public void AllReduceSum(Tensor values)
    {
        CheckHost(values);
        IntPtr request;
        Check(_iallreduce(InPlace, TensorMemory.Pointer(values), Count(values), _float, _sum, _world, &request), "MPI_Iallreduce");
        Wait(&request, "all-reduce");
    }

    public void Broadcast(Tensor values, int root)
    {
        CheckHost(values);
        IntPtr request;
        Check(_ibcast(TensorMemory.Pointer(values), Count(values), _float, root, _world, &request), "MPI_Ibcast");
        Wait(&request, "broadcast");
    }

    public void Barrier()
    {
        IntPtr request;
        Check(_ibarrier(_world, &request), "MPI_Ibarrier");
        Wait(&request, "barrier");
    }

    // Open MPI makes progress inside MPI_Test; spinning first keeps a step's all-reduce latency low, sleeping after
    // keeps a rank that waits for a slow peer (a checkpoint being written) from burning its core. A stop signal gets a
    // short grace: when every rank got it (Ctrl-C), the collective completes and the run stops at a step boundary.
    private void Wait(IntPtr* request, string operation)
    {
        var clock = Stopwatch.StartNew();
        var spin = new SpinWait();
        TimeSpan? stoppedAt = null;
        int done = 0;
        while (true)
        {
            Check(_test(request, &done, IntPtr.Zero), "MPI_Test");
            if (done != 0) return;
            if (_stop.IsCancellationRequested) stoppedAt ??= clock.Elapsed;
            if (clock.Elapsed - stoppedAt > StopGrace)
            {
                _broken = true;
                throw new CollectiveAbortedException(operation, Rank, WorldSize);
            }
            if (clock.Elapsed > _timeout)
            {
                _broken = true;
                throw new CollectiveTimeoutException(operation, Rank, WorldSize, _timeout);
            }
            if (clock.ElapsedMilliseconds < 50) spin.SpinOnce(sleep1Threshold: -1);
            else Thread.Sleep(1);
        }
    }

    private static int Count(Tensor t) => checked((int)t.numel());

    private static void CheckHost(Tensor t)
    {
        if (t.device_type != DeviceType.CPU || t.dtype != ScalarType.Float32)
            throw new ArgumentException($"MPI reduces float32 host tensors; got {t.dtype} on {t.device}.");
    }

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}.");
    }

    private string VersionString()
    {
        var buffer = new byte[256]; // MPI_MAX_LIBRARY_VERSION_STRING
        int length;
        fixed (byte* p = buffer) Check(((delegate* unmanaged<byte*, int*, int>)Symbol("MPI_Get_library_version"))(p, &length), "MPI_Get_library_version");
        var text = System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Max(0, length)).Trim('\0', ' ', '\n');
        return text.Split(',')[0];
    }

    private IntPtr Symbol(string name) => NativeLibrary.TryGetExport(_lib, name, out var address) ? address
        : throw new CollectiveUnavailableException($"{name} is missing from libmpi: CPU training across processes needs Open MPI (3, 4 or 5).");

    private static IntPtr Load()
    {
        foreach (var name in LibraryNames)
            if (NativeLibrary.TryLoad(name, out var handle)) return handle;
        throw new CollectiveUnavailableException("Open MPI's libmpi.so.40 is not installed: CPU training across processes runs over MPI (apt-get install openmpi-bin).");
    }

    public void Dispose()
    {
        // After a timeout a request is still pending, and MPI_Finalize would wait for it: the process exits without it.
        if (_disposed) return;
        _disposed = true;
        if (!_broken) ((delegate* unmanaged<int>)Symbol("MPI_Finalize"))();
    }
}
