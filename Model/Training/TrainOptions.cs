using CodeLm.Common;

namespace CodeLm.Model.Training;

/// <summary>Everything about a training run except the model shape and the data.</summary>
public sealed record TrainOptions
{
    public required string OutDir { get; init; }
    public int BatchSize { get; init; } = 8;
    public int GradAccumulation { get; init; } = 1;
    /// <summary>Training window length; defaults to the model's context.</summary>
    public int? SequenceLength { get; init; }
    public int MaxSteps { get; init; } = 1000;
    public int WarmupSteps { get; init; } = 100;
    public double LearningRate { get; init; } = 6e-4;
    /// <summary>Cosine floor; defaults to LearningRate / 10.</summary>
    public double? MinLearningRate { get; init; }
    public double WeightDecay { get; init; } = 0.1;
    public double GradClip { get; init; } = 1.0;
    public int Seed { get; init; } = 1337;
    public int EvalInterval { get; init; } = 100;
    public int EvalBatches { get; init; } = 20;
    /// <summary>Checkpoint every N steps; defaults to EvalInterval. A checkpoint is also written at the end and on cancel.</summary>
    public int? CheckpointInterval { get; init; }
    public int KeepLast { get; init; } = 3;
    public double FimRate { get; init; } = 0.5;
    public double FimSpmRate { get; init; } = 0.5;
    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "auto";
    public TrainPrecision Precision { get; init; } = TrainPrecision.Auto;
    /// <summary>Peak FLOP/s for MFU; when not given, the CPU's measured FMA peak, or a matmul probe on a GPU.</summary>
    public double? PeakFlops { get; init; }
    public bool Resume { get; init; }
    /// <summary>Stop (with a checkpoint) after this step although the schedule runs to MaxSteps: for time-sliced jobs.</summary>
    public int? StopAtStep { get; init; }
    /// <summary>Torch intra-op threads; 0 keeps libtorch's default.</summary>
    public int Threads { get; init; }
    /// <summary>Skip the memory-fit check (for machines whose free memory is misreported).</summary>
    public bool SkipMemoryCheck { get; init; }
    /// <summary>
    /// Fine-tuning: start from this model's weights (a Hugging Face model folder or a CodeLm checkpoint) instead of random
    /// ones. The run's shape is the model's, and its shards must come from the model's tokenizer.
    /// </summary>
    public string? InitFrom { get; init; }
    /// <summary>With <see cref="InitFrom"/>: train a LoRA adapter on the frozen model instead of every weight.</summary>
    public Lora.LoraOptions? Lora { get; init; }

    /// <summary>
    /// With several ranks: how long any collective may wait for the others before this rank gives up (a rank died or
    /// stalls). Long enough for rank 0 to write a checkpoint while the others wait at the next step.
    /// </summary>
    public int CollectiveTimeoutSeconds { get; init; } = 300;

    public int EffectiveCheckpointInterval => CheckpointInterval ?? EvalInterval;
    public double EffectiveMinLr => MinLearningRate ?? LearningRate / 10;

    public void Validate()
    {
        foreach (var (name, value) in new[] { (nameof(BatchSize), BatchSize), (nameof(GradAccumulation), GradAccumulation), (nameof(MaxSteps), MaxSteps),
                                              (nameof(EvalInterval), EvalInterval), (nameof(EvalBatches), EvalBatches), (nameof(KeepLast), KeepLast),
                                              (nameof(CollectiveTimeoutSeconds), CollectiveTimeoutSeconds) })
            if (value <= 0) throw new OptionException(name, $"must be positive (got {value}).");
        if (WarmupSteps < 0 || WarmupSteps > MaxSteps) throw new OptionException(nameof(WarmupSteps), $"{WarmupSteps} must be between 0 and the step count {MaxSteps}.");
        if (LearningRate <= 0) throw new OptionException(nameof(LearningRate), "must be positive.");
        if (FimRate is < 0 or > 1) throw new OptionException(nameof(FimRate), "must be between 0 and 1.");
        if (FimSpmRate is < 0 or > 1) throw new OptionException(nameof(FimSpmRate), "must be between 0 and 1.");
        if (!Enum.IsDefined(Precision)) throw new ArgumentException($"Unknown precision {(int)Precision}: use fp32, bf16 or auto.");
        if (Lora != null && InitFrom == null) throw new OptionException(nameof(Lora), "adapts a pretrained model: give the model to start from as well.");
        if (Lora != null && Precision == TrainPrecision.Bf16) throw new OptionException(nameof(Precision), "bf16 is not available with LoRA yet; LoRA runs train in fp32.");
        Lora?.Validate();
    }
}
