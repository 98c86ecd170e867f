using System.CommandLine;
using CodeLm.Common;
using CodeLm.Model;
using CodeLm.Model.Training;

namespace CodeLm.Cli;

public static class TrainCommands
{
    public static Command Create()
    {
        var defaults = new TrainOptions { OutDir = "" };
        var data = new Option<string>("--data") { Description = "Shard directory from `codelm data tokenize` (train/validation .bin/.idx, manifest.json, tokenizer/).", Required = true };
        var config = new Option<string>("--config") { Description = $"Model preset ({string.Join(", ", GptConfig.PresetNames)}) or a config.json path. The vocabulary comes from the tokenizer.", DefaultValueFactory = _ => "llama-small" };
        var outDir = new Option<string>("--out") { Description = "Run directory: checkpoints/, best/, metrics.jsonl, tensorboard/, loss.png.", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer directory or Hugging Face model folder; defaults to the shards' own copy. Must be the one the shards were made with." };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => defaults.Device };
        // No default value factory: help would print the enum's spelling ("Auto"); unset is TrainPrecision.Auto all the same.
        var precision = new Option<TrainPrecision>("--precision") { Description = "fp32, bf16 (bf16 compute, fp32 master weights) or auto (bf16 on CUDA, fp32 on CPU; the default)." };
        precision.AcceptOnlyFromAmong("auto", "fp32", "bf16"); // the words it has always taken, which the enum parse maps
        var batch = new Option<int>("--batch-size") { Description = "Sequences per micro-batch.", DefaultValueFactory = _ => defaults.BatchSize };
        var accum = new Option<int>("--grad-accum") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => defaults.GradAccumulation };
        var seqLen = new Option<int?>("--seq-len") { Description = "Training window in tokens (default: the model context)." };
        var steps = new Option<int>("--max-steps") { Description = "Optimizer steps; the cosine schedule ends here.", DefaultValueFactory = _ => defaults.MaxSteps };
        var warmup = new Option<int>("--warmup") { Description = "Linear warmup steps.", DefaultValueFactory = _ => defaults.WarmupSteps };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var minLr = new Option<double?>("--min-lr") { Description = "Cosine floor (default: --lr / 10)." };
        var wd = new Option<double>("--weight-decay") { Description = "AdamW weight decay on matrices and embeddings.", DefaultValueFactory = _ => defaults.WeightDecay };
        var clip = new Option<double>("--grad-clip") { Description = "Clip the global gradient norm to this (0 = off).", DefaultValueFactory = _ => defaults.GradClip };
        var seed = new Option<int>("--seed") { Description = "Seed for init, data order and FIM.", DefaultValueFactory = _ => defaults.Seed };
        var evalEvery = new Option<int>("--eval-interval") { Description = "Validate every N steps (and keep best/).", DefaultValueFactory = _ => defaults.EvalInterval };
        var evalBatches = new Option<int>("--eval-batches") { Description = "Validation micro-batches per evaluation.", DefaultValueFactory = _ => defaults.EvalBatches };
        var ckptEvery = new Option<int?>("--checkpoint-interval") { Description = "Checkpoint every N steps (default: --eval-interval)." };
        var keep = new Option<int>("--keep") { Description = "Step checkpoints to keep (best/ is kept apart).", DefaultValueFactory = _ => defaults.KeepLast };
        var fim = new Option<double>("--fim-rate") { Description = "Fraction of documents turned into fill-in-the-middle examples.", DefaultValueFactory = _ => defaults.FimRate };
        var spm = new Option<double>("--fim-spm-rate") { Description = "Of those, the fraction in SPM order (the rest PSM).", DefaultValueFactory = _ => defaults.FimSpmRate };
        var peak = new Option<double?>("--peak-tflops") { Description = "Device peak TFLOP/s for MFU; when omitted, the CPU's measured fp32 FMA peak, or a matmul probe on a GPU." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest checkpoint (model, optimizer, schedule, data position, RNG)." };
        var stopAt = new Option<int?>("--stop-at") { Description = "Stop after this step with a checkpoint (the schedule still targets --max-steps)." };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = libtorch default).", DefaultValueFactory = _ => 0 };
        var logEvery = new Option<int>("--log-interval") { Description = "Print a progress line every N steps when stderr is not a terminal.", DefaultValueFactory = _ => 10 };
        var collectiveTimeout = new Option<int>("--collective-timeout") { Description = "With several ranks (launched by mpirun, srun or torchrun): seconds a rank waits for the others in a collective before it stops the job with an error.", DefaultValueFactory = _ => defaults.CollectiveTimeoutSeconds };
        var noMemCheck = new Option<bool>("--skip-memory-check") { Description = "Do not refuse runs estimated not to fit in memory." };
        var initFrom = new Option<string?>("--init-from") { Description = "Fine-tune: start from this model (a Hugging Face model folder or a CodeLm checkpoint or run) instead of random weights. Its shape replaces --config; the shards must be tokenized with its tokenizer (`codelm data tokenize --tokenizer <the model folder>`)." };
        var lora = new Option<bool>("--lora") { Description = "With --init-from: train a LoRA adapter (PEFT format) on the frozen model instead of every weight. Checkpoints hold the adapter alone." };
        var loraDefaults = new CodeLm.Model.Lora.LoraOptions();
        var loraRank = new Option<int>("--lora-rank") { Description = "LoRA rank r.", DefaultValueFactory = _ => loraDefaults.Rank };
        var loraAlpha = new Option<double>("--lora-alpha") { Description = "LoRA alpha; updates are scaled by alpha / r.", DefaultValueFactory = _ => loraDefaults.Alpha };
        var loraDropout = new Option<double>("--lora-dropout") { Description = "Dropout on the adapters' input while training.", DefaultValueFactory = _ => loraDefaults.Dropout };
        var loraTargets = new Option<string>("--lora-targets") { Description = "Projections to adapt, comma-separated: q, k, v, o, gate, up, down, or attention, mlp, all.", DefaultValueFactory = _ => "all" };
        var loraEmbeddings = new Option<bool>("--lora-embeddings") { Description = "Also train the token embedding (and an untied head) in full, as PEFT's modules_to_save." };

        var cmd = new Command("train", "Pretrain a code model on token shards, or fine-tune one (--init-from, --lora), with FIM, resumable checkpoints and metrics. " +
            "Started by mpirun, srun or torchrun, each process is one data-parallel rank: --batch-size is per rank, gradients are averaged (MPI on CPUs, NCCL on GPUs), rank 0 writes the run (docs/model.md).")
        {
            data, config, outDir, tokenizer, device, precision, batch, accum, seqLen, steps, warmup, lr, minLr, wd, clip, seed,
            evalEvery, evalBatches, ckptEvery, keep, fim, spm, peak, resume, stopAt, threads, logEvery, collectiveTimeout, noMemCheck,
            initFrom, lora, loraRank, loraAlpha, loraDropout, loraTargets, loraEmbeddings,
        };
        cmd.SetAction((ParseResult parse, CancellationToken ct) => Task.FromResult(Train(parse, ct)));
        return cmd;

        int Train(ParseResult parse, CancellationToken ct)
        {
            var (trainData, tok, handles) = ShardData.Open(parse.GetValue(data)!, parse.GetValue(tokenizer));
            using var _ = handles;
            var init = parse.GetValue(initFrom);
            if (init != null && parse.GetResult(config) is { Implicit: false })
                throw new OptionException("InitFrom", "sets the model shape; drop --config.");
            var model = init != null ? Checkpoint.LoadConfig(Checkpoint.Resolve(init)) : GptConfig.Parse(parse.GetValue(config)!, tok.VocabSize);
            var options = new TrainOptions
            {
                OutDir = parse.GetValue(outDir)!, Device = parse.GetValue(device)!, Precision = parse.GetValue(precision),
                BatchSize = parse.GetValue(batch), GradAccumulation = parse.GetValue(accum), SequenceLength = parse.GetValue(seqLen),
                MaxSteps = parse.GetValue(steps), WarmupSteps = parse.GetValue(warmup), LearningRate = parse.GetValue(lr),
                MinLearningRate = parse.GetValue(minLr), WeightDecay = parse.GetValue(wd), GradClip = parse.GetValue(clip),
                Seed = parse.GetValue(seed), EvalInterval = parse.GetValue(evalEvery), EvalBatches = parse.GetValue(evalBatches),
                CheckpointInterval = parse.GetValue(ckptEvery), KeepLast = parse.GetValue(keep), FimRate = parse.GetValue(fim),
                FimSpmRate = parse.GetValue(spm), PeakFlops = parse.GetValue(peak) * 1e12, Resume = parse.GetValue(resume),
                StopAtStep = parse.GetValue(stopAt), Threads = parse.GetValue(threads), SkipMemoryCheck = parse.GetValue(noMemCheck),
                CollectiveTimeoutSeconds = parse.GetValue(collectiveTimeout), InitFrom = init,
                Lora = parse.GetValue(lora) ? new CodeLm.Model.Lora.LoraOptions
                {
                    Rank = parse.GetValue(loraRank), Alpha = parse.GetValue(loraAlpha), Dropout = parse.GetValue(loraDropout),
                    Targets = LoraTargets.Parse(parse.GetValue(loraTargets)!), TrainEmbeddings = parse.GetValue(loraEmbeddings),
                } : null,
            };
            var every = Math.Max(1, parse.GetValue(logEvery));
            var result = CliProgress.Run(bar => Trainer.Run(model, trainData, options, p => Report(bar, p), ct),
                plain: u => u.Done || (int)u.Value % every == 0 ? u.Label : null);
            if (result.Rank != 0) return result.StopReason == StopReason.Nan ? ExitCodes.Diverged : ExitCodes.Ok; // rank 0 reports for the job
            Console.WriteLine(result.Message + result.StopReason switch
            {
                StopReason.Stopped or StopReason.Cancelled => " Run the same command with --resume.",
                StopReason.Nan => " Use a lower --lr or a longer --warmup, with --resume.",
                _ => "",
            });
            Console.WriteLine($"run directory: {Path.GetFullPath(options.OutDir)}");
            return result.StopReason switch { StopReason.Nan => ExitCodes.Diverged, StopReason.Cancelled => ExitCodes.Cancelled, _ => ExitCodes.Ok };
        }
    }

    private static string Line(TrainProgress p) => FormattableString.Invariant(
        $"step {p.Step}/{p.MaxSteps} | loss {p.Loss:F4} | lr {p.Lr:0.00e+0} | grad {p.GradNorm:F2} | {p.TokensPerSecond:N0} tok/s | MFU {p.Mfu:P1} | ETA {Eta(p.Eta)}") +
        (p.ValLoss is { } v ? FormattableString.Invariant($" | val {v:F4}") : "");

    private static string Eta(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";

    // Messages and validation lines are kept on record; the step line updates the bar (or, in a log, every Nth step).
    private static void Report(CliProgress bar, TrainProgress p)
    {
        if (p.Message != null) { bar.Note(p.Message); return; }
        if (p.ValLoss != null) bar.Note(Line(p));
        if (p.ValLoss == null || bar.ShowsBars) bar.Update(new ProgressUpdate("train", Line(p), p.Step, p.MaxSteps, Done: p.Step == p.MaxSteps));
    }
}
