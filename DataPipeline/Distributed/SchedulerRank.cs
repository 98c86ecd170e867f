namespace CodeLm.DataPipeline.Distributed;

/// <summary>The rank a scheduler gives a task: a Slurm array task's index, or a Kubernetes Indexed Job's completion index.</summary>
public static class SchedulerRank
{
    public static int? FromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID"), out var s) ? s
        : int.TryParse(Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX"), out var k) ? k : null;
}
