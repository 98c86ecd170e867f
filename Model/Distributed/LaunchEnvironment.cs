using System.Collections;
using System.Globalization;

namespace CodeLm.Model.Distributed;

/// <summary>The program that started this process as one rank of a job.</summary>
public enum Launcher { None, Torchrun, Mpirun, Srun }

/// <summary>
/// Which rank this process is, as its launcher says: torchrun and Kubeflow's PyTorchJob set <c>RANK</c>/<c>WORLD_SIZE</c>/
/// <c>LOCAL_RANK</c>, mpirun and Kubeflow's MPIJob <c>OMPI_COMM_WORLD_*</c>, srun <c>SLURM_PROCID</c> and the step's task count.
/// A process started by hand has none of these and is the whole job.
/// </summary>
public sealed record LaunchEnvironment(int Rank, int WorldSize, int LocalRank, Launcher Launcher)
{
    public static readonly LaunchEnvironment Single = new(0, 1, 0, Launcher.None);

    public bool IsDistributed => WorldSize > 1;

    public bool IsPrimary => Rank == 0;

    /// <summary>Where torchrun's rank 0 listens (NCCL's rendezvous); torchrun sets both, other launchers leave it to the job script.</summary>
    public string MasterAddress { get; init; } = "127.0.0.1";

    public int MasterPort { get; init; } = 29500;

    public static LaunchEnvironment Read() => From(Environment.GetEnvironmentVariables());

    public static LaunchEnvironment From(IDictionary variables)
    {
        string? Get(string name) => variables[name] as string;
        var launch = Ranks(Get("RANK"), Get("WORLD_SIZE"), Get("LOCAL_RANK"), Launcher.Torchrun)
            ?? Ranks(Get("OMPI_COMM_WORLD_RANK"), Get("OMPI_COMM_WORLD_SIZE"), Get("OMPI_COMM_WORLD_LOCAL_RANK"), Launcher.Mpirun)
            // The batch script of an sbatch job has SLURM_PROCID too; only srun's tasks are told their step's task count.
            ?? Ranks(Get("SLURM_PROCID"), Get("SLURM_STEP_NUM_TASKS"), Get("SLURM_LOCALID"), Launcher.Srun)
            ?? Single;
        return launch with
        {
            MasterAddress = Get("MASTER_ADDR") is { Length: > 0 } address ? address : launch.MasterAddress,
            MasterPort = Get("MASTER_PORT") is { } port && int.TryParse(port, CultureInfo.InvariantCulture, out var p) ? p : launch.MasterPort,
        };
    }

    private static LaunchEnvironment? Ranks(string? rank, string? size, string? localRank, Launcher launcher)
    {
        if (rank == null || size == null) return null;
        if (!int.TryParse(rank, CultureInfo.InvariantCulture, out var r) || !int.TryParse(size, CultureInfo.InvariantCulture, out var w) || w < 1 || r < 0 || r >= w)
            throw new InvalidOperationException($"The {launcher} environment is inconsistent: rank '{rank}' of world size '{size}'.");
        int local = localRank != null && int.TryParse(localRank, CultureInfo.InvariantCulture, out var l) ? l : 0;
        return new LaunchEnvironment(r, w, local, launcher);
    }
}
