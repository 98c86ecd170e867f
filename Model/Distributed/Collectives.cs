using TorchSharp;
using static TorchSharp.torch;

namespace CodeLm.Model.Distributed;

/// <summary>Which collective library a rank joins its job with: none alone, NCCL on GPUs, Open MPI on CPUs.</summary>
public static class Collectives
{
    /// <param name="stop">The run's cancellation: once it is signalled, a collective the other ranks do not join soon gives up.</param>
    public static ICollective Join(LaunchEnvironment launch, Device device, TimeSpan timeout, CancellationToken stop = default)
    {
        if (!launch.IsDistributed) return SingleProcess.Instance;
        if (device.type == DeviceType.CUDA) return new Nccl(launch, timeout);
        if (launch.Launcher == Launcher.Torchrun)
            throw new CollectiveUnavailableException("CPU ranks average their gradients over MPI, which torchrun does not set up: launch them with mpirun -np N, or srun --mpi=pmix.");
        var mpi = new OpenMpi(timeout, stop);
        if (mpi.Rank != launch.Rank || mpi.WorldSize != launch.WorldSize)
        {
            mpi.Dispose();
            throw new CollectiveUnavailableException($"MPI says this is rank {mpi.Rank} of {mpi.WorldSize}, {launch.Launcher} says {launch.Rank} of {launch.WorldSize}: " +
                "under srun, pass --mpi=pmix so that Open MPI joins the step's tasks.");
        }
        return mpi;
    }

    /// <summary>The device a rank trains on: with several ranks on a node, "cuda" and "auto" mean this rank's own GPU.</summary>
    public static Device RankDevice(Device resolved, LaunchEnvironment launch) =>
        launch.IsDistributed && resolved.type == DeviceType.CUDA && resolved.index < 0 ? new Device(DeviceType.CUDA, launch.LocalRank) : resolved;
}
