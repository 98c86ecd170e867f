namespace CodeLm.Model.Training;

/// <summary>What the trainer reports after each step (and at the start, with <c>Message</c>).</summary>
public sealed record TrainProgress(int Step, int MaxSteps, double Loss, double Lr, double GradNorm, double TokensPerSecond, double Mfu,
    TimeSpan Eta, double? ValLoss = null, string? Message = null);

/// <summary>How a run ended, where, and what it left.</summary>
public sealed record TrainResult(StopReason StopReason, int Step, double? LastLoss, double? BestValLoss, int? BestStep, string? LastCheckpoint,
    IReadOnlyList<double> Losses, string Message)
{
    /// <summary>The validation loss of the last evaluation in this process (null if none ran).</summary>
    public double? LastValLoss { get; init; }

    /// <summary>This process's rank in a data-parallel job (0 alone): only rank 0 reports.</summary>
    public int Rank { get; init; }
}
