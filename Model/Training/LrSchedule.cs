namespace CodeLm.Model.Training;

/// <summary>Linear warmup to the peak, then cosine decay to <c>MinLr</c> at <c>DecaySteps</c>, flat after.</summary>
public sealed record LrSchedule(double MaxLr, double MinLr, int WarmupSteps, int DecaySteps)
{
    /// <summary>The learning rate for optimizer step <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (step < WarmupSteps) return MaxLr * (step + 1) / WarmupSteps;
        if (step >= DecaySteps) return MinLr;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, DecaySteps - WarmupSteps);
        return MinLr + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (MaxLr - MinLr);
    }
}
