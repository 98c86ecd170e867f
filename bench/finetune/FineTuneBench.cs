using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Model;
using CodeLm.Model.Training;
using CodeLm.Tokenizer.Shards;

namespace CodeLm.Bench.Finetune;

/// <summary>Everything one run of the benchmark is made of; the defaults are the documented run.</summary>
public sealed record FineTuneSettings
{
    public required string Work { get; init; }
    public required string Corpus { get; init; }
    public required CodelmCli Codelm { get; init; }
    public string Holdout { get; init; } = "requests";
    /// <summary>Seed of the pretraining corpus's repository split. Seed 0 puts ripgrep alone in validation, the only Rust
    /// repository, so the forgetting figure would be on a language pretraining never saw; seed 4 validates on MediatR,
    /// cobra and express (C#, Go, JavaScript), languages the other repositories also train.</summary>
    public int SplitSeed { get; init; } = 4;
    /// <summary>Share of the held-out repository's bytes for its validation files. At the default 0.1 requests keeps 12
    /// validation files (9.2k tokens, 3 of them Python): too few for completions and a steady loss.</summary>
    public string HoldoutValidation { get; init; } = "0.2";
    public int Vocab { get; init; } = 8192;
    public string Preset { get; init; } = "llama-tiny";
    public int Batch { get; init; } = 8;
    public int Seq { get; init; } = 256;
    /// <summary>One torch thread: on the shared 2-core machine two threads ran 10x slower whenever another job held a core.</summary>
    public int Threads { get; init; } = 1;
    public int PretrainSteps { get; init; } = 2000;
    public string PretrainLr { get; init; } = "1e-3";
    public int FinetuneSteps { get; init; } = 300;
    public string FullLr { get; init; } = "3e-4";
    public string LoraLr { get; init; } = "2e-3";

    public string Path(params string[] parts) => System.IO.Path.Combine([Work, .. parts]);
    public string Log => Path("commands.log");
}

/// <summary>
/// Issue #19's evidence: pretrain without one repository, fine-tune on it in full and with LoRA (same steps, batch and
/// tokens), then compare held-out losses on that repository (the gain) and on the pretraining validation split
/// (forgetting), with each run's trainable parameters, optimizer state, wall time and tokens/s, and greedy completions.
/// Every stage drives `codelm` and skips work a previous invocation finished, so the stages can run one at a time.
/// </summary>
public static class FineTuneBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Pretrain(FineTuneSettings s) => s.Path("pretrain");
    public static string Full(FineTuneSettings s) => s.Path("ft-full");
    public static string Lora(FineTuneSettings s) => s.Path("ft-lora");
    public static string PreShards(FineTuneSettings s) => s.Path("pre-shards");
    public static string HoldShards(FineTuneSettings s) => s.Path("holdout-shards");

    public static void Prepare(FineTuneSettings s)
    {
        var repos = Directory.GetDirectories(s.Corpus, "*.git").Order(StringComparer.Ordinal).ToList();
        var held = repos.Single(r => System.IO.Path.GetFileName(r) == s.Holdout + ".git");
        string cache = s.Path("repo-cache");
        if (!File.Exists(s.Path("pre-corpus", "manifest.json")))
            s.Codelm.Run(s.Log, ["data", "build", .. repos.Where(r => r != held), "--cache", cache, "--out", s.Path("pre-corpus"),
                "--seed", s.SplitSeed.ToString(Inv)]);
        if (!File.Exists(s.Path("pre-tokenizer", "tokenizer.json")))
            s.Codelm.Run(s.Log, "tokenizer", "train", "--corpus", s.Path("pre-corpus"), "--out", s.Path("pre-tokenizer"), "--vocab-size", s.Vocab.ToString(Inv));
        s.Codelm.Run(s.Log, "data", "tokenize", "--corpus", s.Path("pre-corpus"), "--tokenizer", s.Path("pre-tokenizer"), "--out", PreShards(s));
        if (!File.Exists(s.Path("holdout-corpus", "manifest.json")))
            s.Codelm.Run(s.Log, "data", "build", held, "--cache", cache, "--out", s.Path("holdout-corpus"), "--validation-fraction", s.HoldoutValidation);
        // The pretraining tokenizer, not one of its own: a fine-tuned model reads the ids it was pretrained on.
        s.Codelm.Run(s.Log, "data", "tokenize", "--corpus", s.Path("holdout-corpus"), "--tokenizer", s.Path("pre-tokenizer"), "--out", HoldShards(s));
    }

    public static void PretrainRun(FineTuneSettings s) =>
        Train(s, Pretrain(s), PreShards(s), s.PretrainSteps, ["--config", s.Preset, "--lr", s.PretrainLr, "--warmup", "100", "--eval-interval", "250"]);

    public static void FineTune(FineTuneSettings s)
    {
        // Same shards, steps, batch, window, warmup, seed and evaluation for both: only what is trained and its lr differ.
        string[] common = ["--init-from", Pretrain(s), "--warmup", "30", "--eval-interval", "50"];
        Train(s, Full(s), HoldShards(s), s.FinetuneSteps, [.. common, "--lr", s.FullLr]);
        Train(s, Lora(s), HoldShards(s), s.FinetuneSteps, [.. common, "--lora", "--lr", s.LoraLr]);
    }

    private static void Train(FineTuneSettings s, string run, string shards, int steps, string[] extra)
    {
        if (File.Exists(System.IO.Path.Combine(run, "wall.json"))) return;
        if (Directory.Exists(run)) Directory.Delete(run, recursive: true); // an interrupted run's wall time would be wrong
        var (wall, _) = s.Codelm.Run(s.Log, ["train", "--data", shards, "--out", run, "--device", "cpu", "--threads", s.Threads.ToString(Inv),
            "--batch-size", s.Batch.ToString(Inv), "--seq-len", s.Seq.ToString(Inv), "--max-steps", steps.ToString(Inv), "--log-interval", "50",
            "--eval-batches", "20", .. extra]);
        File.WriteAllText(System.IO.Path.Combine(run, "wall.json"), new JsonObject { ["wall_s"] = wall.TotalSeconds }.ToJsonString());
    }

    /// <summary>A fine-tuning run's last checkpoint: scored instead of best/, which the trainer picked on the very
    /// validation files scored here.
    /// Listed here rather than with RunCheckpoints.Latest: at the fine-tuning commit that only counted checkpoints with full
    /// weights, so it found no step of a LoRA run (fixed on main since, bcb40c9).</summary>
    public static string Final(string run) =>
        Directory.GetDirectories(System.IO.Path.Combine(run, "checkpoints"), "step-*")
            .Where(d => File.Exists(System.IO.Path.Combine(d, Checkpoint.ConfigFile)))
            .MaxBy(d => int.Parse(System.IO.Path.GetFileName(d)["step-".Length..], CultureInfo.InvariantCulture))
        ?? throw new InvalidOperationException($"'{run}' has no checkpoint");

    public static JsonObject Report(FineTuneSettings s)
    {
        var models = new (string Name, string Dir)[] { ("pretrained", RunCheckpoints.BestPath(Pretrain(s))), ("full FT", Final(Full(s))), ("LoRA", Final(Lora(s))) };
        var splits = new (string Name, string Shards, string Split)[]
        {
            ("holdout validation", HoldShards(s), ShardManifest.Validation), ("pretrain validation", PreShards(s), ShardManifest.Validation),
        };
        var report = new JsonObject();
        foreach (var (name, shards, split) in splits)
        {
            var (h, ce) = UnigramAnchor.Of(shards, split, PreShards(s), s.Vocab);
            var (_, ceHold) = UnigramAnchor.Of(shards, split, HoldShards(s), s.Vocab);
            var entry = new JsonObject
            {
                ["unigram_entropy"] = h, ["unigram_ce_pretrain_train"] = ce, ["unigram_ce_holdout_train"] = ceHold, ["models"] = new JsonObject(),
            };
            foreach (var (model, dir) in models)
            {
                var r = HeldOutLoss.Evaluate(dir, shards, split);
                Console.Error.WriteLine($"{model} on {name}: {r.Loss:F4} ({r.Targets} targets, {r.Windows} windows)");
                entry["targets"] = r.Targets;
                entry["windows"] = r.Windows;
                ((JsonObject)entry["models"]!)[model] = new JsonObject
                {
                    ["checkpoint"] = System.IO.Path.GetRelativePath(s.Work, dir),
                    ["loss"] = r.Loss,
                    ["by_language"] = new JsonObject(r.ByLanguage.OrderByDescending(kv => kv.Value.Targets)
                        .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject { ["loss"] = kv.Value.Loss, ["targets"] = kv.Value.Targets }))),
                };
            }
            report[name] = entry;
        }
        report["runs"] = new JsonObject(new[] { ("pretrain", Pretrain(s)), ("full FT", Full(s)), ("LoRA", Lora(s)) }
            .Select(r => KeyValuePair.Create(r.Item1, (JsonNode?)RunStats(r.Item2))));
        File.WriteAllText(s.Path("report.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return report;
    }

    /// <summary>
    /// Trainable parameters counted from what the run checkpoints (every model weight, or the adapter's tensors alone),
    /// AdamW's state as 2 fp32 moments per trainable parameter (checked against the optimizer file's float count), the
    /// wall time of the whole command and the median per-step tokens/s of metrics.jsonl.
    /// </summary>
    private static JsonObject RunStats(string run)
    {
        var last = Final(run);
        var adapter = System.IO.Path.Combine(last, Model.Lora.PeftAdapter.WeightsFile);
        long trainable = Elements(File.Exists(adapter) ? adapter : System.IO.Path.Combine(last, Checkpoint.WeightsFile));
        long optimizerFloats = Elements(System.IO.Path.Combine(last, Checkpoint.OptimizerFile));
        var steps = File.ReadLines(System.IO.Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(o => (string?)o["type"] == "train").ToList();
        var tps = steps.Select(o => (double)o["tokens_per_s"]!).Order().ToList();
        double wall = (double)JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(run, "wall.json")))!["wall_s"]!;
        long tokens = (long)steps[^1]["tokens"]!;
        return new JsonObject
        {
            ["trainable_params"] = trainable,
            ["optimizer_bytes"] = 2L * 4 * trainable,
            ["optimizer_file_floats"] = optimizerFloats,
            ["steps"] = steps.Count,
            ["tokens"] = tokens,
            ["wall_s"] = wall,
            ["tokens_per_s_median"] = tps[tps.Count / 2],
            ["tokens_per_s_p10"] = tps[tps.Count / 10],
            ["tokens_per_s_p90"] = tps[tps.Count * 9 / 10],
            ["tokens_per_wall_s"] = tokens / wall,
            ["train_log"] = TrainingLine(run),
        };
    }

    private static long Elements(string safetensors) =>
        File.Exists(safetensors) ? SafeTensors.ReadHeader(safetensors).Entries.Where(e => e.DType == "F32").Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b)) : 0;

    /// <summary>The trainer's own "training X of Y parameters" line, from the commands log, for the report.</summary>
    private static string? TrainingLine(string run)
    {
        var log = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(run)!, "commands.log");
        if (!File.Exists(log)) return null;
        string? current = null, found = null;
        foreach (var line in File.ReadLines(log))
        {
            if (line.StartsWith("$ codelm train", StringComparison.Ordinal)) current = line;
            else if (current != null && current.Contains("--out " + run, StringComparison.Ordinal) && line.StartsWith("fine-tuning ", StringComparison.Ordinal)) found = line;
        }
        return found;
    }
}
