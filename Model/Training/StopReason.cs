namespace CodeLm.Model.Training;

/// <summary>How a training run ended.</summary>
public enum StopReason
{
    /// <summary>Every planned step ran.</summary>
    Completed,
    /// <summary>Stopped at <see cref="TrainOptions.StopAtStep"/> with a checkpoint to resume from.</summary>
    Stopped,
    /// <summary>Cancelled (Ctrl+C) after writing a checkpoint to resume from.</summary>
    Cancelled,
    /// <summary>The loss became NaN or infinite; the last good checkpoint is kept.</summary>
    Nan,
}
