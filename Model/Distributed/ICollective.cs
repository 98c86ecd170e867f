using static TorchSharp.torch;

namespace CodeLm.Model.Distributed;

/// <summary>
/// The three collectives data-parallel training needs, over a standard library (MPI on CPUs, NCCL on GPUs). Tensors
/// are contiguous float32 on this rank's device and are changed in place. Every call waits at most the group's timeout:
/// a rank that died or stalls makes the others throw <see cref="CollectiveTimeoutException"/> rather than hang.
/// </summary>
public interface ICollective : IDisposable
{
    int Rank { get; }

    int WorldSize { get; }

    /// <summary>The library and its version, for the run's log.</summary>
    string Library { get; }

    /// <summary>Every rank's <paramref name="values"/> summed, on every rank.</summary>
    void AllReduceSum(Tensor values);

    /// <summary><paramref name="values"/> as rank <paramref name="root"/> holds them, on every rank.</summary>
    void Broadcast(Tensor values, int root);

    void Barrier();
}

/// <summary>A collective that did not complete in time: some rank died, stalls, or never joined.</summary>
public sealed class CollectiveTimeoutException(string operation, int rank, int worldSize, TimeSpan timeout)
    : Exception($"rank {rank} of {worldSize}: the {operation} did not complete within {timeout.TotalSeconds:0} s; another rank has died or stalls.")
{
    public string Operation { get; } = operation;
    public int Rank { get; } = rank;
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>A collective abandoned because this process was told to stop while other ranks had not joined it: the launcher ends the job.</summary>
public sealed class CollectiveAbortedException(string operation, int rank, int worldSize)
    : Exception($"rank {rank} of {worldSize}: stopped by the launcher while waiting for the other ranks in the {operation}; another rank has most likely died.")
{
    public string Operation { get; } = operation;
}

/// <summary>A collective library that cannot be used here: not installed, or the process was not started by a launcher it supports.</summary>
public sealed class CollectiveUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The whole job in one process: every collective is the identity.</summary>
public sealed class SingleProcess : ICollective
{
    public static readonly SingleProcess Instance = new();
    public int Rank => 0;
    public int WorldSize => 1;
    public string Library => "none";
    public void AllReduceSum(Tensor values) { }
    public void Broadcast(Tensor values, int root) { }
    public void Barrier() { }
    public void Dispose() { }
}
