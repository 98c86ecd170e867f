using CodeLm.Common;
using CodeLm.Model.Distributed;
using CodeLm.Model.Native;
using TorchSharp;
using static TorchSharp.torch;
using CheckpointFiles = CodeLm.Model.Checkpoint;

namespace CodeLm.Model.Training;

/// <summary>Where a resumed run picks up: its latest checkpoint and the trainer state saved with it.</summary>
internal sealed record ResumePoint(string Dir, TrainerState State);

/// <summary>Setting a run up: every refusal comes before the first tensor, then the models, optimizer and data position.</summary>
internal sealed partial class TrainingRun
{
    public static TrainingRun Start(GptConfig config, TrainData data, TrainOptions options, Action<TrainProgress>? progress, CancellationToken ct = default)
    {
        int seq = CheckInputs(config, data, options);
        var fineTuning = options.InitFrom is { } init ? FineTuning.Of(init, config, data, options) : null;
        var launch = LaunchEnvironment.Read();
        var device = Collectives.RankDevice(Devices.Resolve(options.Device), launch);
        bool bf16 = options.Precision == TrainPrecision.Bf16 || (options.Precision == TrainPrecision.Auto && device.type == DeviceType.CUDA && options.Lora == null);
        // Before the run directory exists: a run refused for memory leaves nothing behind.
        if (device.type != DeviceType.CUDA && !options.SkipMemoryCheck)
            MemoryBudget.Check(config, options.BatchSize, seq, bf16, MemoryBudget.AvailableHostBytes(), fineTuning?.Trainable(config));
        ConfigureTorch(options, device);
        var runDir = Path.GetFullPath(options.OutDir);
        var group = Collectives.Join(launch, device, TimeSpan.FromSeconds(options.CollectiveTimeoutSeconds), ct);
        try
        {
            Directory.CreateDirectory(runDir);
            // A run killed mid-checkpoint leaves staging folders (and, rarely, best/ only as its .old copy): rank 0 tidies
            // up before any rank looks for the checkpoint to resume from.
            var recovered = group.Rank != 0 ? [] : StagedDirectory.RecoverInterrupted(runDir)
                .Concat(StagedDirectory.RecoverInterrupted(Path.Combine(runDir, RunCheckpoints.Folder))).ToList();
            group.Barrier();
            var resume = FindResumePoint(runDir, config, data, options, seq, group.WorldSize);
            return new TrainingRun(config, data, options, seq, device, bf16, runDir, resume, recovered, progress, fineTuning, group, launch);
        }
        catch
        {
            group.Dispose();
            throw;
        }
    }

    private TrainingRun(GptConfig config, TrainData data, TrainOptions options, int seq, Device device, bool bf16, string runDir,
        ResumePoint? resume, IEnumerable<string> recovered, Action<TrainProgress>? progress, FineTuning? fineTuning,
        ICollective group, LaunchEnvironment launch)
    {
        (_data, _options, _seq, _device, _runDir, _progress, _fineTuning, _group) = (data, options, seq, device, runDir, progress, fineTuning, group);
        _firstStep = StepsTaken = resume?.State.Step ?? 0;
        foreach (var line in recovered) Say(line);
        if (group.WorldSize > 1) Say(DataParallelLine(launch, group, options));
        Say($"model: {config.ParameterCount() / 1e6:F2}M parameters ({config.Layers} layers, {config.Heads} heads, {config.Embedding} wide, context {config.ContextLength}, vocab {config.VocabSize})");
        Say($"device: {device}, precision: {(bf16 ? "bf16 with fp32 master weights" : "fp32")}, threads: {get_num_threads()}, allocator: {NativeAllocator.Mode}");
        if (options.FimRate > 0 && !data.HasFim) Say("fill-in-the-middle: off, the tokenizer has no FIM tokens");
        try
        {
            _master = fineTuning?.Load(options.Seed) ?? SeededModel(config, options.Seed, device);
            if (resume != null)
            {
                if (fineTuning != null) fineTuning.LoadCheckpoint(_master, resume.Dir);
                else CheckpointFiles.LoadWeights(_master, Path.Combine(resume.Dir, CheckpointFiles.WeightsFile));
            }
            _master.to(device);
            // Every rank starts from rank 0's weights, whatever its own seed or files gave it.
            if (group.WorldSize > 1) new GradientBuckets(_master.parameters()).BroadcastValues(group, root: 0);
            _bf16Copy = bf16 ? Bf16Copy(_master, config, device) : null;
            _workParams = Work.parameters().Where(p => p.requires_grad).ToArray();
            _gradientBuckets = new GradientBuckets(_workParams);
            _optimizer = new AdamW(_master.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, (Tensor)p.parameter)), options.WeightDecay);
            if (fineTuning != null) Say(FineTuningLine(fineTuning, config));
            if (resume != null) RestoreOptimizer(resume);

            _stream = data.TrainStream(options, resume?.State.DataPosition);
            _schedule = new LrSchedule(options.LearningRate, options.EffectiveMinLr, options.WarmupSteps, options.MaxSteps);
            (_peakFlops, var peakSource) = MfuPeak(options, device, bf16);
            // Frozen weights get no weight gradients: a LoRA step's backward does one of its two products (4N, not 6N, a token).
            _flopsPerToken = config.FlopsPerToken(seq) * (options.Lora != null ? 2.0 / 3 : 1);
            Say($"MFU peak: {_peakFlops / 1e9:F1} GFLOP/s ({peakSource}); {_flopsPerToken / 1e6:F1} MFLOP per token");

            _metrics = group.Rank == 0 ? new MetricsLog(runDir, _firstStep) : null;
            (_tokensSeen, _best, _bestStep, _lastCheckpoint) = (resume?.State.TokensSeen ?? 0, resume?.State.BestValLoss, resume?.State.BestStep, resume?.Dir);
            _batch = new int[options.BatchSize * (seq + 1)];
            Work.train();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The window length to train on, after the checks that need neither torch nor the disk.</summary>
    private static int CheckInputs(GptConfig config, TrainData data, TrainOptions options)
    {
        options.Validate();
        config.Validate();
        // A pretrained model may have more rows than its tokenizer has tokens (Qwen2.5: 151,936 for 151,665); a new one has as many.
        if (options.InitFrom == null ? config.VocabSize != data.VocabSize : config.VocabSize < data.VocabSize)
            throw new ArgumentException($"Model vocabulary {config.VocabSize} does not fit the tokenizer's {data.VocabSize}.");
        int seq = options.SequenceLength ?? config.ContextLength;
        if (seq <= 0 || seq > config.ContextLength)
            throw new ArgumentException($"Sequence length {seq} must be between 1 and the model context {config.ContextLength}.");
        return seq;
    }

    private static void ConfigureTorch(TrainOptions options, Device device)
    {
        if (options.Threads > 0) set_num_threads(options.Threads);
        if (device.type == DeviceType.CUDA) { backends.cuda.matmul.allow_tf32 = true; backends.cudnn.allow_tf32 = true; }
    }

    private static string DataParallelLine(LaunchEnvironment launch, ICollective group, TrainOptions options) =>
        $"data parallel: {group.WorldSize} ranks ({launch.Launcher.ToString().ToLowerInvariant()}, {group.Library}); global batch " +
        $"{GlobalBatch(options.BatchSize, options.GradAccumulation, group.WorldSize)} sequences = {options.BatchSize} per micro-batch × " +
        $"{options.GradAccumulation} micro-batches × {group.WorldSize} ranks; gradients averaged in buckets of ≤ {GradientBuckets.BucketBytes >> 20} MB";

    private static int GlobalBatch(int batch, int accumulation, int ranks) => batch * accumulation * ranks;

    private static ResumePoint? FindResumePoint(string runDir, GptConfig config, TrainData data, TrainOptions options, int seq, int ranks)
    {
        var latest = RunCheckpoints.Latest(runDir);
        if (!options.Resume)
        {
            if (latest != null)
                throw new OptionException(nameof(TrainOptions.Resume), $"is off, but '{runDir}' already holds checkpoints (latest: {Path.GetFileName(latest)}); turn it on to continue that run, or choose a new output directory.");
            return null;
        }
        if (latest == null) throw new OptionException(nameof(TrainOptions.Resume), $"cannot continue: '{runDir}' has no complete checkpoint to resume from.");
        var saved = CheckpointFiles.LoadConfig(latest);
        if (saved != config)
            throw new OptionException(nameof(TrainOptions.Resume), $"cannot continue: the checkpoint's model config ({saved}) differs from this run's ({config}); they are not compatible.");
        var state = TrainerState.Load(Path.Combine(latest, CheckpointFiles.TrainerStateFile));
        if (state.TokenizerHash != data.TokenizerHash)
            throw new OptionException(nameof(TrainOptions.Resume), $"cannot continue: the checkpoint was trained with tokenizer {state.TokenizerHash[..Math.Min(12, state.TokenizerHash.Length)]}, these shards use {data.TokenizerHash[..Math.Min(12, data.TokenizerHash.Length)]}.");
        if (state.SequenceLength != seq)
            throw new OptionException(nameof(TrainOptions.Resume), $"cannot continue: the run trained on {state.SequenceLength}-token windows, this one asks for {seq}; the data position would not carry over.");
        // The data position counts windows of the whole job, so it carries over to another world size whose ranks
        // together read as many per step; a different global batch would change what every later step sees.
        int before = GlobalBatch(state.BatchSize, state.GradAccumulation, state.WorldSize), now = GlobalBatch(options.BatchSize, options.GradAccumulation, ranks);
        if (state.WorldSize != ranks && before != now)
            throw new OptionException(nameof(TrainOptions.BatchSize), $"cannot resume on {ranks} rank(s) as asked: the run's global batch was {before} sequences " +
                $"({state.BatchSize} × {state.GradAccumulation} micro-batches × {state.WorldSize} rank(s)), this one would be {now} ({options.BatchSize} × " +
                $"{options.GradAccumulation} × {ranks}). Choose a batch size and accumulation that keep {before}.");
        if (state.Step >= options.MaxSteps)
            throw new OptionException(nameof(TrainOptions.MaxSteps), $"{options.MaxSteps} is already reached: the checkpoint is at step {state.Step}. Raise it to train further.");
        return new ResumePoint(latest, state);
    }

    private string FineTuningLine(FineTuning f, GptConfig config)
    {
        long trainable = _optimizer.ParameterCount, model = config.ParameterCount();
        if (f.Lora is not { } l) return $"fine-tuning {f.ModelDir} ({f.Family}): every weight, {model:N0} parameters";
        var what = $"LoRA rank {l.Rank}, alpha {l.Alpha}, dropout {l.Dropout}, targets {l.Targets}{(l.TrainEmbeddings ? " and the embeddings" : "")}";
        return $"fine-tuning {f.ModelDir} ({f.Family}): {what}; {trainable:N0} trainable parameters, {100.0 * trainable / model:F2}% of the model's {model:N0}";
    }

    /// <summary>The fp32 model the optimizer updates, with its seeded initial weights.</summary>
    private static Gpt SeededModel(GptConfig config, int seed, Device device)
    {
        manual_seed(seed);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);
        return new Gpt(config);
    }

    /// <summary>What bf16 runs forward/backward on; the optimizer updates the fp32 master, which is copied back after each step.</summary>
    private static Gpt Bf16Copy(Gpt master, GptConfig config, Device device)
    {
        var copy = new Gpt(config);
        copy.to(device).to(ScalarType.BFloat16);
        CopyWeights(master, copy);
        return copy;
    }

    /// <summary>The AdamW moments and step, and the torch RNG state, as the checkpoint saved them.</summary>
    private void RestoreOptimizer(ResumePoint resume)
    {
        var (tensors, _) = SafeTensors.Load(Path.Combine(resume.Dir, CheckpointFiles.OptimizerFile));
        _optimizer.LoadState(tensors, resume.State.Step);
        if (tensors.TryGetValue("rng.torch", out var rng)) set_rng_state(rng);
        foreach (var t in tensors.Values) t.Dispose();
        Say($"resumed from {resume.Dir} at step {resume.State.Step}");
    }

    /// <summary>
    /// What MFU divides by: the given peak, else on a CPU its measured FMA peak (a hardware limit), else a matmul probe
    /// (on a GPU, where the dense peak is a datasheet figure best given with --peak-flops).
    /// </summary>
    private static (double Peak, string Source) MfuPeak(TrainOptions options, Device device, bool bf16)
    {
        if (options.PeakFlops is { } given) return (given, "given");
        if (device.type == DeviceType.CPU && !bf16 && CpuPeak.Measure(get_num_threads()) is { FlopsPerSecond: > 0 } cpu)
            return (cpu.FlopsPerSecond, $"measured CPU fp32 peak, {cpu.Method}");
        return (MatmulProbe.Measure(device, bf16 ? ScalarType.BFloat16 : ScalarType.Float32), "matmul probe");
    }

    private void Say(string message)
    {
        if (_group.Rank == 0) _progress?.Invoke(new TrainProgress(_firstStep, _options.MaxSteps, double.NaN, 0, 0, 0, 0, TimeSpan.Zero, Message: message));
    }
}
