using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.DataPipeline.Corpus;
using CodeLm.DataPipeline.Crawl;
using CodeLm.DataPipeline.Shards;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Generation;
using CodeLm.DataPipeline.Decontamination;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;
using CodeLm.Model.Training;
using CodeLm.Model;

namespace CodeLm.Pipeline;

/// <summary>What the quickstart is doing now; Fraction is the stage's progress when known.</summary>
public sealed record QuickstartEvent(string Stage, string Message, double? Fraction = null);

/// <summary>One stage's outcome: whether a previous run's output was reused, and the numbers the report shows.</summary>
public sealed record StageResult(string Name, bool Reused, double Seconds, JsonObject Details);

/// <summary>
/// The main job, offline: crawl → clean → tokenizer → shards → train → sample → eval. Each stage is skipped when a
/// previous run finished it with the same inputs, so an interrupted run picks up where it stopped (training resumes
/// from its last checkpoint).
/// </summary>
public static class Quickstart
{
    public static async Task<IReadOnlyList<StageResult>> RunAsync(QuickstartOptions o, IProgress<QuickstartEvent>? progress = null, CancellationToken ct = default)
    {
        if (o.Fresh && Directory.Exists(o.WorkDir)) Directory.Delete(o.WorkDir, recursive: true);
        Directory.CreateDirectory(o.WorkDir);
        var sources = o.Sources.Count > 0 ? o.Sources : [FindOwnRepository()];
        var device = Devices.Resolve(o.Device);
        var results = new List<StageResult>();

        async Task Stage(string name, string dir, string fingerprint, Func<Task<JsonObject>> run)
        {
            ct.ThrowIfCancellationRequested();
            if (StageMarker.Finished(dir, fingerprint) is { } done)
            {
                progress?.Report(new(name, "reused from the previous run", 1));
                results.Add(new(name, true, 0, done));
                return;
            }
            if (StageMarker.Stamp(dir).Length > 0) Directory.Delete(dir, recursive: true); // finished with other inputs: stale
            progress?.Report(new(name, "starting", 0));
            var sw = Stopwatch.StartNew();
            var details = await run();
            StageMarker.MarkDone(dir, fingerprint, details);
            progress?.Report(new(name, "done", 1));
            results.Add(new(name, false, sw.Elapsed.TotalSeconds, details));
        }

        await Stage("corpus", o.CorpusDir, StageMarker.Fingerprint("corpus", sources, "decontaminated against builtin " + ProblemSet.Sha256(ProblemSet.BuiltinName)), async () =>
        {
            var stats = await CorpusBuilder.BuildAsync(new CorpusBuildOptions
            {
                Sources = sources.Select(RepoSource.Parse).ToList(),
                CacheDir = o.CacheDir,
                OutDir = o.CorpusDir,
                // The quickstart evaluates on the built-in problems, so they must not be in what it trains on.
                Decontamination = new DecontaminationOptions { Benchmarks = [BuiltinBenchmark()] },
            }, new Progress<CorpusProgress>(p => progress?.Report(new("corpus", $"{p.Phase}: {p.ReposDone}/{p.ReposTotal} repos, {p.FilesDone} files, {p.BytesDone / 1024} KiB",
                p.FilesTotal > 0 ? (double)p.FilesDone / p.FilesTotal : null))), ct);
            if (stats.Kept.Files == 0)
                throw new InvalidOperationException($"The corpus is empty: no file of {string.Join(", ", sources)} survived cleaning. See {Path.Combine(o.CorpusDir, CorpusStats.FileName)}.");
            return new JsonObject
            {
                ["repos"] = stats.Repos.Ok, ["files_in"] = stats.Input.Files, ["files_kept"] = stats.Kept.Files, ["bytes_kept"] = stats.Kept.Bytes,
                ["near_duplicates"] = stats.Duplicates.NearFiles, ["exact_duplicates"] = stats.Duplicates.ExactFiles,
                ["redactions"] = stats.Redactions.Values.Sum(),
                ["decontaminated"] = stats.Decontamination!.Benchmarks.Sum(b => b.DroppedFiles),
                ["languages"] = new JsonObject(stats.Languages.OrderByDescending(l => l.Value.Bytes).Take(8)
                    .Select(l => KeyValuePair.Create(l.Key, (JsonNode?)JsonValue.Create(l.Value.Files)))),
            };
        });

        await Stage("tokenizer", o.TokenizerDir, StageMarker.Fingerprint("tokenizer", o.VocabSize, StageMarker.Stamp(o.CorpusDir)), async () =>
        {
            var r = await TokenizerTraining.RunAsync(new TokenizerTrainingOptions(o.CorpusDir, o.TokenizerDir, o.VocabSize), null, ct);
            return new JsonObject { ["vocab"] = r.VocabSize, ["merges"] = r.Merges, ["sampled_chars"] = r.SampledChars, ["hash"] = r.Hash[..12] };
        });

        await Stage("shards", o.ShardDir, StageMarker.Fingerprint("shards", StageMarker.Stamp(o.TokenizerDir)), async () =>
        {
            var r = await ShardBuilder.RunAsync(new ShardBuildOptions(o.CorpusDir, o.TokenizerDir, o.ShardDir),
                new Progress<ShardProgress>(p => progress?.Report(new("shards", $"{p.Split}: {p.Documents}/{p.TotalDocuments} documents",
                    p.TotalDocuments > 0 ? (double)p.Documents / p.TotalDocuments : null))), ct);
            return new JsonObject
            {
                ["train_tokens"] = r.Manifest.Split("train").Tokens, ["validation_tokens"] = r.Manifest.Split("validation").Tokens,
                ["token_type"] = r.Manifest.TokenType,
            };
        });

        var trainFingerprint = StageMarker.Fingerprint("train", o.Preset, o.Steps, o.BatchSize, o.SequenceLength, o.LearningRate, StageMarker.Stamp(o.ShardDir));
        await Stage("train", o.RunDir, trainFingerprint, () => Task.Run(() => Train(o, progress, ct), ct));

        var generator = new Lazy<Generator>(() => Generator.Load(o.RunDir, device));
        await Stage("sample", o.SampleDir, StageMarker.Fingerprint("sample", StageMarker.Stamp(o.RunDir)), () => Task.Run(() => Sample(generator.Value, ct), ct));
        await Stage("eval", o.EvalDir, StageMarker.Fingerprint("eval", o.EvalSamples, o.EvalMaxNewTokens, StageMarker.Stamp(o.RunDir)),
            () => Evaluate(o, generator.Value, progress, ct));

        QuickstartReport.Write(o, results);
        return results;
    }

    private static JsonObject Train(QuickstartOptions o, IProgress<QuickstartEvent>? progress, CancellationToken ct)
    {
        var (data, tokenizer, handles) = ShardData.Open(o.ShardDir);
        using var _ = handles;
        var config = GptConfig.Preset(o.Preset, tokenizer.VocabSize);
        var checkpoints = Path.Combine(o.RunDir, RunCheckpoints.Folder);
        bool resume = Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints, RunCheckpoints.Prefix + "*").Any();
        var options = new TrainOptions
        {
            OutDir = o.RunDir, MaxSteps = o.Steps, BatchSize = o.BatchSize, SequenceLength = o.SequenceLength,
            WarmupSteps = Math.Max(1, o.Steps / 10), LearningRate = o.LearningRate, EvalInterval = Math.Max(10, o.Steps / 5), EvalBatches = 4,
            Device = o.Device, Resume = resume,
        };
        var speeds = new List<double>();
        var result = Trainer.Run(config, data, options, p =>
        {
            if (p.TokensPerSecond > 0) speeds.Add(p.TokensPerSecond);
            progress?.Report(new("train", p.Message ?? $"step {p.Step}/{p.MaxSteps} loss {p.Loss:F3}" +
                (p.ValLoss is { } v ? $" val {v:F3}" : "") + $" {p.TokensPerSecond:F0} tok/s, eta {p.Eta:mm\\:ss}", (double)p.Step / p.MaxSteps));
        }, ct);
        if (result.StopReason is StopReason.Nan or StopReason.Cancelled)
            throw new InvalidOperationException($"Training ended ({result.StopReason}) at step {result.Step}: {result.Message}");
        speeds.Sort();
        return new JsonObject
        {
            ["preset"] = o.Preset, ["parameters"] = config.ParameterCount(), ["steps"] = result.Step,
            ["final_loss"] = result.LastLoss, ["best_val_loss"] = result.BestValLoss, ["best_step"] = result.BestStep,
            ["tokens_per_second"] = speeds.Count > 0 ? Math.Round(speeds[speeds.Count / 2]) : null,
            ["loss_curve"] = Path.GetFullPath(Path.Combine(o.RunDir, MetricsLog.PngFile)),
            ["checkpoint"] = Checkpoint.Resolve(o.RunDir),
        };
    }

    /// <summary>Prompts that show what the model picked up: a plain completion in two languages and a fill-in-the-middle.</summary>
    private static readonly (string Language, string Prefix, string? Suffix)[] SamplePrompts =
    [
        ("C#", "public static int Clamp(int value, int min, int max)\n{\n", null),
        ("Python", "def read_lines(path):\n", null),
        ("C#", "public sealed record Point(int X, int Y)\n{\n    public double Length => ", ";\n}\n"),
    ];

    private static JsonObject Sample(Generator generator, CancellationToken ct)
    {
        var samples = new JsonArray();
        foreach (var (language, prefix, suffix) in SamplePrompts)
        {
            // Greedy decoding of a minutes-old model loops on its likeliest token; mild seeded sampling shows more of what it learned.
            var options = new SamplingOptions(MaxNewTokens: 48, Temperature: 0.6f, TopP: 0.9f, RepetitionPenalty: 1.15f, StopSequences: ["\n\n\n"], Seed: 1);
            var tagged = LanguageTag.Prefix(language) + prefix;
            var c = suffix is null ? generator.Generate(tagged, 1, options, ct: ct)[0] : generator.GenerateFim(tagged, suffix, 1, options, ct: ct)[0];
            samples.Add(new JsonObject { ["language"] = language, ["prefix"] = prefix, ["suffix"] = suffix, ["completion"] = c.Text, ["finish"] = c.FinishReason.Name() });
        }
        return new JsonObject { ["samples"] = samples };
    }

    private static async Task<JsonObject> Evaluate(QuickstartOptions o, Generator generator, IProgress<QuickstartEvent>? progress, CancellationToken ct)
    {
        var problems = ProblemSet.LoadBuiltin();
        var sampling = new SamplingOptions(MaxNewTokens: o.EvalMaxNewTokens, Temperature: 0.8f, TopP: 0.95f, Seed: 0).Validate();
        Directory.CreateDirectory(o.EvalDir);
        var samples = await Task.Run(() => SampleGenerator.Generate(new GeneratorCompletionSource(generator, sampling), problems, o.EvalSamples,
            Path.Combine(o.EvalDir, "samples.jsonl"),
            new Progress<GenerationProgress>(p => progress?.Report(new("eval", $"generating: {p.DoneProblems}/{p.TotalProblems} problems",
                0.5 * p.DoneProblems / Math.Max(1, p.TotalProblems)))), ct), ct);
        using var executor = await CandidateExecutor.CreateAsync(problems.Select(p => p.Language).Distinct(), ExecutorOptions.Default, ct);
        var summary = await EvalScorer.ScoreAsync(executor, problems, samples, new ScoreOptions(o.EvalDir, [1, o.EvalSamples], Environment.ProcessorCount),
            new Progress<EvalProgress>(p => progress?.Report(new("eval", $"executing: {p.DoneSamples}/{p.TotalSamples} samples, {p.PassedSamples} passed",
                0.5 + 0.5 * p.DoneSamples / Math.Max(1, p.TotalSamples)))), ct);
        return new JsonObject
        {
            ["summary"] = JsonNode.Parse(summary.ToJson()),
            ["results"] = Path.GetFullPath(Path.Combine(o.EvalDir, "results.jsonl")),
        };
    }

    /// <summary>The git repository this program was started in (from the working directory up), for the offline default corpus.</summary>
    public static string FindOwnRepository()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
                return dir.FullName;
        throw new OptionException(nameof(QuickstartOptions.Sources),
            "is empty and no git repository was found from the working directory up, so the quickstart has nothing to crawl. " +
            "Run it inside a clone of CodeLm, or name sources (repository paths or URLs).");
    }

    /// <summary>The built-in problems as a benchmark to decontaminate against, named and hashed as the eval will look for them.</summary>
    internal static Benchmark BuiltinBenchmark() =>
        new(ProblemSet.BuiltinName, ProblemSet.BuiltinName, ProblemSet.Sha256(ProblemSet.BuiltinName),
            ProblemSet.LoadBuiltin().Select(p => new BenchmarkProblem(p.TaskId, p.Prompt, p.CanonicalSolution)).ToList());
}
