namespace CodeLm.DataPipeline.Distributed;

public enum ExecutorKind
{
    /// <summary>Each rank a child process on this machine, a stage at a time.</summary>
    Local,
    /// <summary>A Slurm job array per stage, chained with --dependency=afterok.</summary>
    Slurm,
    /// <summary>A Kubernetes Indexed Job manifest per stage.</summary>
    Kubernetes,
}

/// <summary>
/// What every executor needs: the stages' world size, the work directory, and how to start one rank, as the command
/// line that runs <c>codelm data stage STAGE --world-size N --work DIR</c> (the rank is appended, or read by the rank from
/// SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX).
/// </summary>
public sealed record StagePlan(int World, string WorkDir, int Bands, IReadOnlyList<string> Codelm, string WorkingDirectory, int JobsPerRank)
{
    public IReadOnlyList<DataStage> Stages { get; init; } = Enum.GetValues<DataStage>();

    /// <summary>The command of one stage, without the rank.</summary>
    public IReadOnlyList<string> StageCommand(DataStage stage) =>
        [.. Codelm, "data", "stage", stage.Name(), "--world-size", World.ToString(), "--work", WorkDir, "--jobs", JobsPerRank.ToString()];

    public int Ranks(DataStage stage) => stage.Ranks(World, Bands);
}

/// <summary>A rank that failed: the stage stops there, and later stages do not start.</summary>
public sealed class StageFailedException(DataStage stage, int rank, string detail)
    : Exception($"the {stage.Name()} stage failed on rank {rank}: {detail}")
{
    public DataStage Stage { get; } = stage;
    public int Rank { get; } = rank;
}
