using CodeLm.Tokenizer;
using CodeLm.Common;
using CodeLm.Model.Generation;
using CodeLm.Model.Inference;
using CodeLm.Server.Completion;
using CodeLm.Server.Engine;
using CodeLm.Server.Tests.Support;
using Generator = CodeLm.Model.Generation.Generator;

namespace CodeLm.Server.Tests;

/// <summary>The checkpoint engine on a real (tiny, random-weight) model, checked against the Generator it builds on.</summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class EngineTests(TinyCheckpoint tiny)
{
    private static readonly CompletionPrompt[] Prompts =
    [
        new(TinyCheckpoint.ProbePrefix, "\n", "Python"),
        new(TinyCheckpoint.ProbePrefix + "values", "\n    return result\n", "Python"),         // extends the prefix
        new(TinyCheckpoint.ProbePrefix + "values *", "\n", "Python"),
        new("// language: C#\npublic static int Twice(int x) => ", ";\n", "C#"),                // shares nothing
        new(TinyCheckpoint.ProbePrefix, "\n", "Python"),                                       // back to the first
    ];

    [Fact]
    public void A_training_run_directory_serves_its_best_checkpoint()
    {
        // The same resolution as `codelm sample`: a run directory means its best/.
        using var run = new CodeLm.Tests.TempDir();
        CopyTree(tiny.Dir, Path.Combine(run.Path, "best"));
        using var direct = tiny.LoadEngine();
        using var fromRun = CheckpointCompletionEngine.Load(run.Path, "cpu");
        var options = new EngineOptions(MaxNewTokens: 16, Temperature: 0, FimFormat.Spm);
        Assert.Equal(direct.Complete(Prompts[0], options, _ => false, default), fromRun.Complete(Prompts[0], options, _ => false, default));
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    [Fact]
    public void Sampled_candidates_come_from_the_cached_prompt_differ_stop_on_their_own_and_leave_greedy_unchanged()
    {
        using var warm = tiny.LoadEngine(reuseKvCache: true);
        var greedy = new EngineOptions(MaxNewTokens: 24, Temperature: 0, FimFormat.Spm);
        var sampled = greedy with { Temperature = 1.0f, TopP = 0.95f };
        var first = warm.Complete(Prompts[0], greedy, _ => false, default);
        // After the greedy run the prompt sits in the warm engine's cache: its samples decode from it as one batch.
        var samples = warm.Sample(Prompts[0], sampled, 4, _ => false, default);
        Assert.Equal(4, samples.Count);
        // Not compared with another engine's samples: torch's thread count is global to the process, tests running
        // alongside change it, and a random-weight model's near-uniform logits turn a rounding difference into another token.
        Assert.True(samples.Distinct().Count() > 1, $"four samples at temperature 1 were all '{samples[0]}' (seed {tiny.Seed})");
        Assert.Equal(first, warm.Complete(Prompts[0], greedy, _ => false, default));
        // Each sample stops where the caller says, on its own.
        Assert.All(warm.Sample(Prompts[0], sampled, 3, soFar => soFar.Length >= 3, default), s => Assert.InRange(s.Length, 1, 3 + 16));
        Assert.Throws<ArgumentException>(() => warm.Sample(Prompts[0], greedy, 2, _ => false, default));
    }

    [Fact]
    public void Repository_context_goes_after_the_language_tag_under_comment_headers_and_keeps_greedy_exact_with_the_cache()
    {
        using var generator = Generator.Load(tiny.Dir, TorchSharp.torch.CPU);
        var t = generator.Tokenizer;
        Assert.Equal(CodeLm.Tokenizer.RepoLayout.CommentHeaders, t.RepoLayout);
        ContextFile[] files = [new("util.py", "def twice(x):\n    return 2 * x\n")];
        var ids = RepoContext.Encode(t, files, "proj", "main.py", "Python");
        Assert.Equal(t.Encode("# file: util.py\ndef twice(x):\n    return 2 * x\n"), ids);
        var options = new SamplingOptions(16) { FimFormat = FimFormat.Spm };
        var prompt = generator.BuildFimPrompt(TinyCheckpoint.ProbePrefix, "\n", options, ids);
        var tag = LanguageTag.Prefix("Python");
        int[] expected = [t.FimPrefix, t.FimSuffix, .. t.Encode("\n"), t.FimMiddle, .. t.Encode(tag), .. ids, .. t.Encode(TinyCheckpoint.ProbePrefix[tag.Length..])];
        Assert.Equal(expected, prompt);

        // Through the engine: the context fits a quarter of the model's context, and a cached engine answers as a fresh one.
        using var warm = tiny.LoadEngine(reuseKvCache: true);
        using var fresh = tiny.LoadEngine(reuseKvCache: false);
        var engineOptions = new EngineOptions(MaxNewTokens: 12, Temperature: 0, FimFormat.Spm) { RepoContextTokens = 10_000 };
        var withContext = Prompts[0] with { Context = [.. files, new("big.py", string.Join("\n", Enumerable.Range(0, 400).Select(i => $"v{i} = {i}")))], Path = "main.py" };
        var fitted = warm.Fit(withContext, engineOptions);
        Assert.Equal(["util.py"], fitted.Context.Select(f => f.Path)); // big.py is over the budget
        foreach (var p in new[] { fitted, fitted with { Prefix = fitted.Prefix + "values" }, fitted })
            Assert.Equal(fresh.Complete(p, engineOptions, _ => false, default), warm.Complete(p, engineOptions, _ => false, default));
    }

    [Fact]
    public void Greedy_with_a_reused_kv_cache_equals_the_generator_token_for_token()
    {
        using var fast = tiny.LoadEngine(reuseKvCache: true);
        using var reference = tiny.LoadEngine(reuseKvCache: false);
        foreach (var p in Prompts.Concat(Prompts))
        foreach (var format in new[] { FimFormat.Spm, FimFormat.Psm })
        {
            var options = new EngineOptions(MaxNewTokens: 24, Temperature: 0, format);
            var expected = reference.Complete(p, options, _ => false, CancellationToken.None);
            Assert.Equal(expected, fast.Complete(p, options, _ => false, CancellationToken.None));
        }
        Assert.False(string.IsNullOrEmpty(fast.Complete(Prompts[0], new EngineOptions(24, 0, FimFormat.Spm), _ => false, default)), $"seed {tiny.Seed}");
    }

    [Fact]
    public void Greedy_completions_in_float32_equal_the_generator_used_by_sample_and_eval()
    {
        using var engine = CheckpointCompletionEngine.Load(tiny.Dir, "cpu", reuseKvCache: true, precision: InferencePrecision.Float32);
        using var generator = Generator.Load(tiny.Dir, TorchSharp.torch.CPU, options: new GeneratorOptions(Precision: InferencePrecision.Float32));
        foreach (var p in Prompts.Concat(Prompts))
        foreach (var format in new[] { FimFormat.Spm, FimFormat.Psm })
        {
            var options = new EngineOptions(MaxNewTokens: 24, Temperature: 0, format);
            var expected = generator.GenerateFim(p.Prefix, p.Suffix, 1, options.Sampling(generator.ContextLength))[0].Text;
            Assert.Equal(expected, engine.Complete(p, options, _ => false, CancellationToken.None));
        }
    }

    [Fact]
    public void Precision_is_chosen_at_load_and_an_unknown_one_is_refused()
    {
        using var auto = tiny.LoadEngine();
        Assert.StartsWith("int8 steps, ", auto.Weights.ToString()); // bfloat16 prompts only where that measured faster
        using var exact = CheckpointCompletionEngine.Load(tiny.Dir, "cpu", reuseKvCache: true, precision: InferencePrecision.Float32);
        Assert.Equal("float32", exact.Weights.ToString());
        using var int8 = CheckpointCompletionEngine.Load(tiny.Dir, "cpu", reuseKvCache: true, precision: InferencePrecision.Int8);
        Assert.Equal("int8 steps, float32 prompts", int8.Weights.ToString());
        var options = new EngineOptions(MaxNewTokens: 16, Temperature: 0, FimFormat.Spm);
        Assert.False(string.IsNullOrEmpty(exact.Complete(Prompts[0], options, _ => false, default)));
        Assert.False(string.IsNullOrEmpty(int8.Complete(Prompts[0], options, _ => false, default)));
        var e = Assert.Throws<OptionException>(() => InferencePrecisions.Parse("fp16"));
        Assert.Contains("auto, int8 or float32", e.Message);
    }

    [Fact]
    public void Stops_at_the_first_stop_condition_and_honours_cancellation()
    {
        using var engine = tiny.LoadEngine();
        var full = engine.Complete(Prompts[0], new EngineOptions(40, 0, FimFormat.Spm), _ => false, default);
        var calls = 0;
        var stopped = engine.Complete(Prompts[0], new EngineOptions(40, 0, FimFormat.Spm), text => ++calls >= 3, default);
        Assert.Equal(3, calls);
        Assert.StartsWith(stopped, full);
        Assert.True(stopped.Length < full.Length);
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => engine.Complete(Prompts[0], new EngineOptions(40, 0, FimFormat.Spm), _ => { cts.Cancel(); return false; }, cts.Token));
        // Sampling goes through the Generator: deterministic for a given prompt, stoppable the same way.
        var sampled = engine.Complete(Prompts[0], new EngineOptions(40, 0.8f, FimFormat.Spm), _ => false, default);
        Assert.Equal(sampled, engine.Complete(Prompts[0], new EngineOptions(40, 0.8f, FimFormat.Spm), _ => false, default));
        var sampledCalls = 0;
        var sampledStopped = engine.Complete(Prompts[0], new EngineOptions(40, 0.8f, FimFormat.Spm), _ => ++sampledCalls >= 2, default);
        Assert.StartsWith(sampledStopped, sampled);
        // After a cancelled run the cache is still coherent.
        Assert.Equal(full, engine.Complete(Prompts[0], new EngineOptions(40, 0, FimFormat.Spm), _ => false, default));
    }

    [Fact]
    public void The_engine_counts_tokens_with_the_checkpoint_tokenizer_and_reports_its_context()
    {
        using var engine = tiny.LoadEngine();
        Assert.Equal(256, engine.ContextLength);
        Assert.True(engine.CountTokens(TinyCheckpoint.ProbePrefix) > 5);
        Assert.Equal(0, engine.CountTokens(""));
    }
}
