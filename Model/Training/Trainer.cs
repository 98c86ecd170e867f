using System.Diagnostics;

namespace CodeLm.Model.Training;

/// <summary>
/// The pretraining loop: AdamW + warmup/cosine, gradient accumulation and clipping, periodic validation with best
/// tracking, atomic checkpoints (last K + best) that resume exactly, NaN/Inf stop, and metrics a person can read.
/// fp32 on CPU; on CUDA bf16 forward/backward with fp32 master weights and optimizer state, TF32 matmuls on.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Trains until MaxSteps, StopAtStep, cancellation or a non-finite loss. Each pass looks at the steps taken so far
    /// (evaluate, checkpoint, report, stop) and then takes one more, in nanoGPT's train.py order.
    /// </summary>
    public static TrainResult Run(GptConfig config, TrainData data, TrainOptions options,
        Action<TrainProgress>? progress = null, CancellationToken ct = default)
    {
        using var run = TrainingRun.Start(config, data, options, progress, ct);
        while (true)
        {
            double lr = run.LearningRate();
            if (run.HasStepped)
            {
                double? valLoss = run.EvaluationDue ? run.Evaluate() : null;
                if (run.CheckpointDue) run.Checkpoint();
                run.Report(valLoss);
                if (run.StepsTaken == options.MaxSteps) return run.Finish(StopReason.Completed);
                if (run.StepsTaken == options.StopAtStep) return run.Finish(StopReason.Stopped);
            }
            if (run.CancelRequested(ct)) return run.Finish(StopReason.Cancelled);

            var clock = Stopwatch.StartNew();
            for (int micro = 0; micro < options.GradAccumulation; micro++) run.ForwardBackward();
            using var grads = run.Gradients();
            if (run.Diverged) return run.Finish(StopReason.Nan); // before the optimizer touches the weights
            grads.ClipTo(options.GradClip);
            run.Step(grads, lr);
            run.Log(lr, clock.Elapsed);
        }
    }
}
