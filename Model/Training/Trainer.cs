using System.Diagnostics;
using CodeLm.Common;
using CodeLm.Model.Native;
using TorchSharp;
using static TorchSharp.torch;

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
}

/// <summary>
/// The pretraining loop: AdamW + warmup/cosine, gradient accumulation and clipping, periodic validation with best
/// tracking, atomic checkpoints (last K + best) that resume exactly, NaN/Inf stop, and metrics a person can read.
/// fp32 on CPU; on CUDA bf16 forward/backward with fp32 master weights and optimizer state, TF32 matmuls on.
/// </summary>
public static class Trainer
{
    public static TrainResult Run(GptConfig config, TrainData data, TrainOptions options,
        Action<TrainProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        config.Validate();
        if (config.VocabSize != data.VocabSize)
            throw new ArgumentException($"Model vocabulary {config.VocabSize} differs from the tokenizer's {data.VocabSize}.");
        int seq = options.SequenceLength ?? config.ContextLength;
        if (seq <= 0 || seq > config.ContextLength)
            throw new ArgumentException($"Sequence length {seq} must be between 1 and the model context {config.ContextLength}.");

        var device = Devices.Resolve(options.Device);
        bool cuda = device.type == DeviceType.CUDA;
        bool bf16 = options.Precision == "bf16" || (options.Precision == "auto" && cuda);
        if (options.Threads > 0) set_num_threads(options.Threads);
        if (cuda) { backends.cuda.matmul.allow_tf32 = true; backends.cudnn.allow_tf32 = true; }

        var runDir = Path.GetFullPath(options.OutDir);
        Directory.CreateDirectory(runDir);
        // A run killed mid-checkpoint leaves staging folders (and, rarely, best/ only as its .old copy): tidy up first.
        var recovered = StagedDirectory.RecoverInterrupted(runDir).Concat(StagedDirectory.RecoverInterrupted(Path.Combine(runDir, RunCheckpoints.Folder))).ToList();
        var (state, resumeFrom) = PrepareResume(runDir, config, data, options, seq);
        if (!cuda && !options.SkipMemoryCheck)
            MemoryBudget.Check(config, options.BatchSize, seq, bf16, MemoryBudget.AvailableHostBytes());

        void Say(string message) => progress?.Invoke(new TrainProgress(state?.Step ?? 0, options.MaxSteps, double.NaN, 0, 0, 0, 0, TimeSpan.Zero, Message: message));
        foreach (var line in recovered) Say(line);
        Say($"model: {config.ParameterCount() / 1e6:F2}M parameters ({config.Layers} layers, {config.Heads} heads, {config.Embedding} wide, context {config.ContextLength}, vocab {config.VocabSize})");
        Say($"device: {device}, precision: {(bf16 ? "bf16 with fp32 master weights" : "fp32")}, threads: {get_num_threads()}, allocator: {NativeAllocator.Mode}");

        manual_seed(options.Seed);
        if (cuda) torch.cuda.manual_seed_all(options.Seed);
        using var master = new Gpt(config);
        if (resumeFrom != null) Checkpoint.LoadWeights(master, Path.Combine(resumeFrom, Checkpoint.WeightsFile));
        master.to(device);
        // bf16: forward/backward run on a bf16 copy; the optimizer updates the fp32 master, which is copied back each step.
        using var bf16Copy = bf16 ? new Gpt(config) : null;
        var work = bf16Copy ?? master;
        if (bf16Copy != null)
        {
            bf16Copy.to(device).to(ScalarType.BFloat16);
            CopyWeights(master, bf16Copy);
        }
        var masterParams = master.parameters().ToArray();
        var workParams = work.parameters().ToArray();
        using var optimizer = new AdamW(master.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), options.WeightDecay);
        if (resumeFrom != null)
        {
            var (tensors, _) = SafeTensors.Load(Path.Combine(resumeFrom, Checkpoint.OptimizerFile));
            optimizer.LoadState(tensors, state!.Step);
            if (tensors.TryGetValue("rng.torch", out var rng)) set_rng_state(rng);
            foreach (var t in tensors.Values) t.Dispose();
            Say($"resumed from {resumeFrom} at step {state.Step}");
        }

        var fim = data.Encode != null && data.Decode != null && options.FimRate > 0
            ? new FimTransform(data.Encode, data.Decode, data.Tokens, options.FimRate, options.FimSpmRate) : null;
        var stream = new TokenStream(data.Train, data.Tokens.EndOfText, options.Seed, fim, position: state?.DataPosition);
        var schedule = new LrSchedule(options.LearningRate, options.EffectiveMinLr, options.WarmupSteps, options.MaxSteps);
        var (peak, peakSource) = MfuPeak(options, device, bf16);
        double flopsPerToken = config.FlopsPerToken(seq);
        Say($"MFU peak: {peak / 1e9:F1} GFLOP/s ({peakSource}); {flopsPerToken / 1e6:F1} MFLOP per token");

        using var metrics = new MetricsLog(runDir, state?.Step ?? 0);
        int step = state?.Step ?? 0;
        long tokensSeen = state?.TokensSeen ?? 0;
        double? best = state?.BestValLoss;
        int? bestStep = state?.BestStep;
        string? lastCheckpoint = resumeFrom;
        var losses = new List<double>();
        double? lastVal = null;
        var buffer = new int[options.BatchSize * (seq + 1)];
        long tokensPerStep = (long)options.BatchSize * seq * options.GradAccumulation;
        var recent = new Queue<double>();
        work.train();

        TrainerState Snapshot(double? valLoss) => new(step, tokensSeen, stream.Position, best, bestStep, data.TokenizerHash, options.Seed,
            options.MaxSteps, options.BatchSize, options.GradAccumulation, seq, valLoss);

        string SaveCheckpoint()
        {
            var dir = RunCheckpoints.PathFor(runDir, step);
            var snapshot = Snapshot(null);
            using var rngState = get_rng_state();
            Checkpoint.Save(dir, master, data.TokenizerDir, stage =>
            {
                File.WriteAllText(Path.Combine(stage, Checkpoint.TrainerStateFile), snapshot.ToJson());
                SafeTensors.Save(Path.Combine(stage, Checkpoint.OptimizerFile), optimizer.StateTensors().Append(("rng.torch", rngState)),
                    new Dictionary<string, string> { ["step"] = optimizer.Step.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            });
            RunCheckpoints.Prune(runDir, options.KeepLast);
            return dir;
        }

        while (step < options.MaxSteps)
        {
            if (ct.IsCancellationRequested)
            {
                if (step > (state?.Step ?? 0)) lastCheckpoint = SaveCheckpoint();
                metrics.WriteLossCurve();
                return new TrainResult(StopReason.Cancelled, step, losses.LastOrDefault(), best, bestStep, lastCheckpoint, losses,
                    $"Cancelled at step {step}; resume with --resume from {lastCheckpoint}.") { LastValLoss = lastVal };
            }
            var sw = Stopwatch.StartNew();
            double lr = schedule.At(step);
            work.zero_grad();
            double lossSum = 0;
            for (int micro = 0; micro < options.GradAccumulation; micro++)
            {
                using var scope = NewDisposeScope();
                stream.NextBatch(buffer, options.BatchSize, seq + 1);
                options.BatchObserver?.Invoke(step, buffer);
                var (x, y) = MakeBatch(buffer, options.BatchSize, seq, device);
                var loss = work.Loss(x, y);
                (loss / options.GradAccumulation).backward();
                lossSum += loss.item<float>();
            }
            double meanLoss = lossSum / options.GradAccumulation;
            double gradNorm;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                var grads = bf16
                    ? workParams.Select(p => p.grad!.to(ScalarType.Float32)).ToList()
                    : masterParams.Select(p => p.grad!).ToList();
                gradNorm = stack(grads.Select(g => g.norm()).ToArray()).norm().item<float>();
                if (!double.IsFinite(meanLoss) || !double.IsFinite(gradNorm))
                {
                    var what = !double.IsFinite(meanLoss) ? $"loss is {meanLoss}" : $"gradient norm is {gradNorm}";
                    var message = $"Stopped at step {step + 1}: the {what}. No checkpoint was written for this step; the last good one is " +
                        $"{lastCheckpoint ?? "(none yet)"}. Lower --lr or raise --warmup, then --resume.";
                    metrics.LogEvent(step + 1, message);
                    metrics.WriteLossCurve();
                    return new TrainResult(StopReason.Nan, step, meanLoss, best, bestStep, lastCheckpoint, losses, message) { LastValLoss = lastVal };
                }
                if (options.GradClip > 0)
                {
                    double coef = options.GradClip / (gradNorm + 1e-6);
                    if (coef < 1) foreach (var g in grads) g.mul_(coef);
                }
                optimizer.Update(grads, lr);
            }
            if (bf16) CopyWeights(master, work);
            step++;
            tokensSeen += tokensPerStep;
            MatmulProbe.Sync(device);
            double seconds = sw.Elapsed.TotalSeconds;
            losses.Add(meanLoss);
            recent.Enqueue(seconds);
            if (recent.Count > 20) recent.Dequeue();
            double tps = tokensPerStep / seconds;
            double mfu = flopsPerToken * tps / peak;
            metrics.LogStep(new StepMetrics(step, meanLoss, lr, gradNorm, tps, mfu, tokensSeen, seconds));

            double? valLoss = null;
            if (step % options.EvalInterval == 0 || step == options.MaxSteps)
            {
                valLoss = Evaluate(work, data, options, fim, seq, device);
                lastVal = valLoss;
                bool isBest = best == null || valLoss < best;
                if (isBest)
                {
                    (best, bestStep) = (valLoss, step);
                    var snapshot = Snapshot(valLoss);
                    Checkpoint.Save(RunCheckpoints.BestPath(runDir), master, data.TokenizerDir,
                        stage => File.WriteAllText(Path.Combine(stage, Checkpoint.TrainerStateFile), snapshot.ToJson()));
                }
                metrics.LogEval(step, valLoss.Value, isBest);
                metrics.WriteLossCurve();
            }
            if (step % options.EffectiveCheckpointInterval == 0 || step == options.MaxSteps || step == options.StopAtStep)
                lastCheckpoint = SaveCheckpoint();

            var eta = TimeSpan.FromSeconds(recent.Average() * (options.MaxSteps - step));
            progress?.Invoke(new TrainProgress(step, options.MaxSteps, meanLoss, lr, gradNorm, tps, mfu, eta, valLoss));
            if (step == options.StopAtStep && step < options.MaxSteps)
            {
                metrics.WriteLossCurve();
                return new TrainResult(StopReason.Stopped, step, meanLoss, best, bestStep, lastCheckpoint, losses,
                    $"Stopped at step {step} as asked; continue with --resume.") { LastValLoss = lastVal };
            }
        }
        metrics.WriteLossCurve();
        return new TrainResult(StopReason.Completed, step, losses.LastOrDefault(), best, bestStep, lastCheckpoint, losses,
            $"Done: {step} steps, best validation loss {best:F4} at step {bestStep}.") { LastValLoss = lastVal };
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

    /// <summary>Mean loss over the first EvalBatches windows of the validation split (fixed order and FIM draws).</summary>
    public static double Evaluate(Gpt model, TrainData data, TrainOptions options, FimTransform? fim, int seq, Device device)
    {
        model.eval();
        try
        {
            using var _ = no_grad();
            var stream = new TokenStream(data.Validation, data.Tokens.EndOfText, options.Seed + 1, fim);
            var buffer = new int[options.BatchSize * (seq + 1)];
            double sum = 0;
            for (int i = 0; i < options.EvalBatches; i++)
            {
                using var scope = NewDisposeScope();
                stream.NextBatch(buffer, options.BatchSize, seq + 1);
                var (x, y) = MakeBatch(buffer, options.BatchSize, seq, device);
                sum += model.Loss(x, y).item<float>();
            }
            return sum / options.EvalBatches;
        }
        finally
        {
            model.train();
        }
    }

    /// <summary>Splits [B, T+1] windows into inputs [B, T] and next-token targets [B, T] on <paramref name="device"/>.</summary>
    public static (Tensor X, Tensor Y) MakeBatch(int[] windows, int batch, int seq, Device device)
    {
        var xs = new long[batch * seq];
        var ys = new long[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
            {
                xs[b * seq + t] = windows[b * (seq + 1) + t];
                ys[b * seq + t] = windows[b * (seq + 1) + t + 1];
            }
        return (tensor(xs, [batch, seq]).to(device), tensor(ys, [batch, seq]).to(device));
    }

    private static void CopyWeights(Gpt from, Gpt to)
    {
        using var _ = no_grad();
        foreach (var (src, dst) in from.parameters().Zip(to.parameters())) dst.copy_(src);
    }

    private static (TrainerState? State, string? From) PrepareResume(string runDir, GptConfig config, TrainData data, TrainOptions options, int seq)
    {
        var latest = RunCheckpoints.Latest(runDir);
        if (!options.Resume)
        {
            if (latest != null)
                throw new InvalidOperationException($"'{runDir}' already holds checkpoints (latest: {Path.GetFileName(latest)}). Pass --resume to continue that run, or choose a new --out.");
            return (null, null);
        }
        if (latest == null) throw new InvalidOperationException($"--resume: '{runDir}' has no complete checkpoint to resume from.");
        var saved = Checkpoint.LoadConfig(latest);
        if (saved != config)
            throw new InvalidOperationException($"--resume: the checkpoint's model config ({saved}) differs from this run's ({config}); they are not compatible.");
        var state = TrainerState.Load(Path.Combine(latest, Checkpoint.TrainerStateFile));
        if (state.TokenizerHash != data.TokenizerHash)
            throw new InvalidOperationException($"--resume: the checkpoint was trained with tokenizer {state.TokenizerHash[..Math.Min(12, state.TokenizerHash.Length)]}, these shards use {data.TokenizerHash[..Math.Min(12, data.TokenizerHash.Length)]}.");
        if (state.SequenceLength != seq)
            throw new InvalidOperationException($"--resume: the run trained on {state.SequenceLength}-token windows, this one asks for {seq}; the data position would not carry over.");
        if (state.Step >= options.MaxSteps)
            throw new InvalidOperationException($"--resume: the checkpoint is at step {state.Step}, already at --max-steps {options.MaxSteps}. Raise --max-steps to train further.");
        return (state, latest);
    }
}
