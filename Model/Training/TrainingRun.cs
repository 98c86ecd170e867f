using CodeLm.Common;
using System.Globalization;
using CodeLm.Model.Distributed;
using CodeLm.Model.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;
using CheckpointFiles = CodeLm.Model.Checkpoint;

namespace CodeLm.Model.Training;

/// <summary>
/// A training run in progress: the models, optimizer, data position and bookkeeping that <see cref="Trainer.Run"/>
/// moves forward one phase at a time, and the one place that says how the run ended. Made by <see cref="Start"/>.
/// </summary>
internal sealed partial class TrainingRun : IDisposable
{
    private readonly TrainData _data;
    private readonly TrainOptions _options;
    private readonly Action<TrainProgress>? _progress;
    private readonly int _seq;
    private readonly Device _device;
    private readonly string _runDir;
    private readonly int _firstStep;
    private readonly Gpt _master;
    private readonly FineTuning? _fineTuning;
    private readonly Gpt? _bf16Copy;
    private readonly Parameter[] _workParams;
    private readonly AdamW _optimizer;
    private readonly TokenStream _stream;
    private readonly LrSchedule _schedule;
    private readonly double _peakFlops, _flopsPerToken;
    private readonly MetricsLog? _metrics; // rank 0's alone
    private readonly ICollective _group;
    private readonly GradientBuckets _gradientBuckets;
    private readonly int[] _batch;
    private readonly List<double> _losses = [];
    private readonly Queue<double> _recentSeconds = new();

    private long _tokensSeen;
    private double? _best, _lastValLoss;
    private int? _bestStep;
    private string? _lastCheckpoint;
    private double _lossSum, _gradNorm, _allReduceSeconds; // of the step being taken
    private StepMetrics? _lastStep;

    /// <summary>Optimizer steps taken, counting those before a resume.</summary>
    public int StepsTaken { get; private set; }

    /// <summary>Whether this process has taken a step: before that there is nothing to evaluate, save or report.</summary>
    public bool HasStepped => StepsTaken > _firstStep;

    public bool EvaluationDue => StepsTaken % _options.EvalInterval == 0 || StepsTaken == _options.MaxSteps;

    public bool CheckpointDue => StepsTaken % _options.EffectiveCheckpointInterval == 0 || StepsTaken == _options.MaxSteps
        || StepsTaken == _options.StopAtStep;

    /// <summary>The step's loss or gradient norm is NaN or infinite: applying it would ruin the weights.</summary>
    public bool Diverged => !double.IsFinite(Loss) || !double.IsFinite(_gradNorm);

    /// <summary>The model forward/backward and evaluation run on: the bf16 copy, or the master itself.</summary>
    private Gpt Work => _bf16Copy ?? _master;

    private double Loss => _lossSum / _options.GradAccumulation;

    /// <summary>Tokens the whole job trains on per step: every rank's micro-batches.</summary>
    private long TokensPerStep => (long)_options.BatchSize * _seq * _options.GradAccumulation * _group.WorldSize;

    private bool IsPrimary => _group.Rank == 0;

    public double LearningRate() => _schedule.At(StepsTaken);

    /// <summary>Forward and backward over the next micro-batch; gradients add up over the step's micro-batches.</summary>
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        _stream.NextSlice(_batch, _options.BatchSize, _seq + 1, _group.Rank, _group.WorldSize);
        var (x, y) = MakeBatch(_batch, _options.BatchSize, _seq, _device);
        var loss = Work.Loss(x, y);
        (loss / _options.GradAccumulation).backward();
        _lossSum += loss.item<float>();
    }

    /// <summary>
    /// The step's gradients in fp32 with their global norm, which the log and a NaN stop report; with several ranks,
    /// averaged over them first (before clipping), so every rank takes the same optimizer step.
    /// </summary>
    public Gradients Gradients()
    {
        if (_group.WorldSize > 1)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _lossSum = _gradientBuckets.AverageGradients(_group, _lossSum);
            _allReduceSeconds = clock.Elapsed.TotalSeconds;
        }
        var grads = new Gradients(_workParams);
        _gradNorm = grads.Norm;
        return grads;
    }

    /// <summary>
    /// Whether to stop now: asked of every rank, so that they stop at the same step (one rank's Ctrl-C or SIGTERM
    /// stops them all, with the checkpoint a cancelled run writes).
    /// </summary>
    public bool CancelRequested(CancellationToken ct)
    {
        if (_group.WorldSize == 1) return ct.IsCancellationRequested;
        using var flag = tensor(new[] { ct.IsCancellationRequested ? 1f : 0f }, device: _device);
        _group.AllReduceSum(flag);
        return flag.item<float>() > 0;
    }

    /// <summary>The AdamW update of the fp32 master weights (copied back to the bf16 copy if there is one).</summary>
    public void Step(Gradients grads, double lr)
    {
        _optimizer.Update(grads.Fp32, lr);
        if (_bf16Copy != null) CopyWeights(_master, _bf16Copy);
        Work.zero_grad();
        StepsTaken++;
        _tokensSeen += TokensPerStep;
        MatmulProbe.Sync(_device); // a GPU step is timed when it has run, not when it was queued
    }

    /// <summary>Writes the step to metrics.jsonl and TensorBoard; it reaches the listener in <see cref="Report"/>.</summary>
    public void Log(double lr, TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds, tokensPerSecond = TokensPerStep / seconds;
        _losses.Add(Loss);
        _recentSeconds.Enqueue(seconds);
        if (_recentSeconds.Count > 20) _recentSeconds.Dequeue();
        double mfu = _flopsPerToken * tokensPerSecond / (_peakFlops * _group.WorldSize);
        _lastStep = new StepMetrics(StepsTaken, Loss, lr, _gradNorm, tokensPerSecond, mfu, _tokensSeen, seconds)
        {
            AllReduceSeconds = _group.WorldSize > 1 ? _allReduceSeconds : null,
        };
        _metrics?.LogStep(_lastStep);
        _lossSum = 0; // the next step sums its own micro-batches
    }

    /// <summary>
    /// Tells the listener about the last step, after its evaluation and checkpoint so that the validation loss comes
    /// with it and a listener that cancels finds the checkpoint written.
    /// </summary>
    public void Report(double? valLoss)
    {
        if (!IsPrimary) return;
        var m = _lastStep!;
        var eta = TimeSpan.FromSeconds(_recentSeconds.Average() * (_options.MaxSteps - StepsTaken));
        _progress?.Invoke(new TrainProgress(StepsTaken, _options.MaxSteps, m.Loss, m.Lr, m.GradNorm, m.TokensPerSecond, m.Mfu, eta, valLoss));
    }

    /// <summary>The validation loss now; a new best is saved to best/ and the loss curve is redrawn.</summary>
    public double Evaluate()
    {
        double valLoss = ValidationLoss();
        _lastValLoss = valLoss;
        bool isBest = _best == null || valLoss < _best;
        if (isBest)
        {
            (_best, _bestStep) = (valLoss, StepsTaken);
            var state = State(valLoss);
            if (IsPrimary) SaveModel(RunCheckpoints.BestPath(_runDir), stage => File.WriteAllText(Path.Combine(stage, CheckpointFiles.TrainerStateFile), state.ToJson()));
        }
        _metrics?.LogEval(StepsTaken, valLoss, isBest);
        _metrics?.WriteLossCurve();
        return valLoss;
    }

    /// <summary>
    /// Saves checkpoints/step-N with what --resume needs (AdamW moments, RNG, data position) and keeps the last K.
    /// Rank 0 writes for the job: every rank holds the same weights, optimizer state and data position.
    /// </summary>
    public void Checkpoint()
    {
        var dir = RunCheckpoints.PathFor(_runDir, StepsTaken);
        _lastCheckpoint = dir;
        if (!IsPrimary) return;
        var state = State(null);
        using var rng = get_rng_state();
        SaveModel(dir, stage =>
        {
            File.WriteAllText(Path.Combine(stage, CheckpointFiles.TrainerStateFile), state.ToJson());
            SafeTensors.Save(Path.Combine(stage, CheckpointFiles.OptimizerFile), _optimizer.StateTensors().Append(("rng.torch", rng)),
                new Dictionary<string, string> { ["step"] = _optimizer.Step.ToString(CultureInfo.InvariantCulture) });
        });
        RunCheckpoints.Prune(_runDir, _options.KeepLast);
    }

    // A LoRA run's checkpoints hold the adapter alone; every other run's hold the whole model.
    private void SaveModel(string dir, Action<string> modelExtras)
    {
        void extras(string stage) { modelExtras(stage); _data.Provenance?.Save(stage); }
        if (_fineTuning == null) { CheckpointFiles.Save(dir, _master, _data.TokenizerDir, extras); return; }
        StagedDirectory.Write(dir, stage =>
        {
            File.WriteAllText(Path.Combine(stage, CheckpointFiles.ConfigFile), _master.Config.ToJson());
            _fineTuning.Save(stage, _master);
            if (_data.TokenizerDir != null) CheckpointFiles.CopyTokenizer(_data.TokenizerDir, Path.Combine(stage, CheckpointFiles.TokenizerDirName));
            extras(stage);
        });
    }

    /// <summary>Ends the run: what each way of stopping leaves behind, and its result.</summary>
    public TrainResult Finish(StopReason reason)
    {
        if (reason == StopReason.Cancelled && HasStepped) Checkpoint();
        var message = Message(reason);
        if (reason == StopReason.Nan) _metrics?.LogEvent(StepsTaken + 1, message);
        _metrics?.WriteLossCurve();
        double? lastLoss = reason == StopReason.Nan ? Loss : _losses.LastOrDefault();
        return new TrainResult(reason, StepsTaken, lastLoss, _best, _bestStep, _lastCheckpoint, _losses, message) { LastValLoss = _lastValLoss, Rank = _group.Rank };
    }

    private string Message(StopReason reason) => reason switch
    {
        StopReason.Completed => $"Done: {StepsTaken} steps, best validation loss {_best:F4} at step {_bestStep}.",
        StopReason.Stopped => $"Stopped at step {StepsTaken} as asked; resume the run to continue.",
        StopReason.Cancelled => $"Cancelled at step {StepsTaken}; resume the run to continue from {_lastCheckpoint}.",
        StopReason.Nan => $"Stopped at step {StepsTaken + 1}: the {(double.IsFinite(Loss) ? $"gradient norm is {_gradNorm}" : $"loss is {Loss}")}. " +
            $"No checkpoint was written for this step; the last good one is {_lastCheckpoint ?? "(none yet)"}. Lower the learning rate or lengthen the warmup, then resume.",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    private TrainerState State(double? valLoss) => new(StepsTaken, _tokensSeen, _stream.Position, _best, _bestStep, _data.TokenizerHash,
        _options.Seed, _options.MaxSteps, _options.BatchSize, _options.GradAccumulation, _seq, valLoss) { WorldSize = _group.WorldSize };

    /// <summary>
    /// Mean loss over the first EvalBatches global batches of the validation split; each rank reads its rows of each, as
    /// in training, so a job measures what one process with the whole global batch would.
    /// </summary>
    private double ValidationLoss()
    {
        var model = Work;
        model.eval();
        try
        {
            using var _ = no_grad();
            var stream = _data.ValidationStream(_options);
            var batch = new int[_options.BatchSize * (_seq + 1)];
            double sum = 0;
            for (int i = 0; i < _options.EvalBatches; i++)
            {
                using var scope = NewDisposeScope();
                stream.NextSlice(batch, _options.BatchSize, _seq + 1, _group.Rank, _group.WorldSize);
                var (x, y) = MakeBatch(batch, _options.BatchSize, _seq, _device);
                sum += model.Loss(x, y).item<float>();
            }
            if (_group.WorldSize > 1)
            {
                using var total = tensor(new[] { (float)sum }, device: _device);
                _group.AllReduceSum(total);
                sum = total.item<float>() / _group.WorldSize;
            }
            return sum / _options.EvalBatches;
        }
        finally
        {
            model.train();
        }
    }

    /// <summary>Splits [B, T+1] windows into inputs [B, T] and next-token targets [B, T] on <paramref name="device"/>.</summary>
    private static (Tensor X, Tensor Y) MakeBatch(int[] windows, int batch, int seq, Device device)
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

    public void Dispose()
    {
        _metrics?.Dispose();
        _optimizer?.Dispose();
        _group?.Dispose();
        _bf16Copy?.Dispose();
        _master?.Dispose();
    }
}
