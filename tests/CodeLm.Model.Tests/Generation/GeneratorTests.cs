using CodeLm.Tests;
using System.Text;
using CodeLm.Common;
using CodeLm.Model.Generation;
using CodeLm.Model.Training;
using static TorchSharp.torch;
using Generator = CodeLm.Model.Generation.Generator;

namespace CodeLm.Model.Tests.Generation;

[Collection(GenerationCollection.Name)]
public class GeneratorTests(GenerationFixture fixture)
{
    private Generator NewGenerator() => new(fixture.Model, fixture.Tokenizer, CPU);

    /// <summary>Last-position logits of a full forward over <paramref name="ids"/> (no cache).</summary>
    private float[] FullRecompute(IReadOnlyList<int> ids)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var input = tensor(ids.Select(x => (long)x).ToArray()).view(1, -1);
        return fixture.Model.forward(input)[0, -1].data<float>().ToArray();
    }

    [Fact]
    public void Cached_logits_equal_full_recompute_at_every_step_for_a_long_prompt_and_64_new_tokens()
    {
        var generator = NewGenerator();
        var prompt = generator.BuildPrompt(fixture.PythonPrompt(330), new SamplingOptions(MaxNewTokens: 64));
        Assert.InRange(prompt.Length, 250, 330);
        var steps = new List<(IReadOnlyList<int> Rows, float[][] Logits)>();
        generator.OnLogits = (_, rows, logits) =>
            steps.Add((rows.ToArray(), Enumerable.Range(0, rows.Count).Select(r => logits[r].data<float>().ToArray()).ToArray()));
        var results = generator.GenerateTokens(prompt, 2, new SamplingOptions(MaxNewTokens: 64, Temperature: 1f, Seed: 3));

        Assert.Contains(results, r => r.Tokens == 64);
        Assert.Equal(64, steps.Count);
        double worst = 0;
        for (int step = 0; step < steps.Count; step++)
            for (int r = 0; r < steps[step].Rows.Count; r++)
            {
                var tokens = results[steps[step].Rows[r]].TokenIds;
                var expected = FullRecompute([.. prompt, .. tokens.Take(step)]);
                var actual = steps[step].Logits[r];
                worst = Math.Max(worst, expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max());
            }
        Assert.True(worst < 1e-4, $"max |cached - full| = {worst}");
    }

    [Fact]
    public void Greedy_decoding_is_deterministic_and_equal_across_samples()
    {
        var generator = NewGenerator();
        var options = new SamplingOptions(MaxNewTokens: 40);
        var prompt = fixture.PythonPrompt(120, file: 1);
        var first = generator.Generate(prompt, 1, options)[0];
        var again = generator.Generate(prompt, 1, options)[0];
        var batch = generator.Generate(prompt, 3, options);
        Assert.Equal(40, first.Tokens);
        Assert.Equal(first.TokenIds, again.TokenIds);
        Assert.All(batch, c => Assert.Equal(first.TokenIds, c.TokenIds));
        Assert.Equal(fixture.Tokenizer.Decode([.. first.TokenIds]), first.Text);
        // greedy really is the argmax of the full forward at every step
        var ids = generator.BuildPrompt(prompt, options).ToList();
        foreach (var token in first.TokenIds.Take(8))
        {
            var logits = FullRecompute(ids);
            Assert.Equal(Array.IndexOf(logits, logits.Max()), token);
            ids.Add(token);
        }
    }

    [Fact]
    public void A_stop_sequence_spanning_two_tokens_is_trimmed_and_never_streamed()
    {
        var generator = NewGenerator();
        var prompt = fixture.PythonPrompt(100, file: 2);
        var free = generator.Generate(prompt, 1, new SamplingOptions(MaxNewTokens: 48, Temperature: 1f, Seed: 11))[0];
        var (stop, _) = StopAcrossBoundary(free.TokenIds, minOffset: 10);
        int expectedCut = free.Text.IndexOf(stop, StringComparison.Ordinal);

        var streamed = new StringBuilder();
        var stopped = generator.Generate(prompt, 1, new SamplingOptions(MaxNewTokens: 48, Temperature: 1f, Seed: 11, StopSequences: ["\u0001never", stop]),
            (_, delta) => streamed.Append(delta))[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(free.Text[..expectedCut], stopped.Text);
        Assert.Equal(stopped.Text, streamed.ToString());
        Assert.True(stopped.Tokens < free.Tokens);
    }

    /// <summary>A 4-character stop made of the last 2 characters of one generated token and the first 2 of the next.</summary>
    private (string Stop, int Token) StopAcrossBoundary(IReadOnlyList<int> tokens, int minOffset)
    {
        var tok = fixture.Tokenizer;
        for (int k = minOffset; k < tokens.Count; k++)
        {
            string left = tok.Decode([tokens[k - 1]]), right = tok.Decode([tokens[k]]);
            if (left.Length >= 2 && right.Length >= 2 && (left + right).All(c => c < 128 && !char.IsControl(c)))
                return (left[^2..] + right[..2], k);
        }
        throw new InvalidOperationException("no pair of ASCII tokens to build a spanning stop from");
    }

    [Fact]
    public void Batched_samples_equal_independent_runs_with_the_same_seeds_including_early_stops()
    {
        var generator = NewGenerator();
        var prompt = fixture.PythonPrompt(150, file: 3);
        var baseOptions = new SamplingOptions(MaxNewTokens: 40, Temperature: 0.9f, TopK: 60, TopP: 0.95f, RepetitionPenalty: 1.15f, Seed: 500);
        var probe = generator.Generate(prompt, 1, baseOptions)[0];
        var (stop, _) = StopAcrossBoundary(probe.TokenIds, minOffset: 6);
        var options = baseOptions with { StopSequences = [stop, "\n\n\n"] };

        const int n = 5;
        var streamed = Enumerable.Range(0, n).Select(_ => new StringBuilder()).ToArray();
        var batched = generator.Generate(prompt, n, options, (i, delta) => streamed[i].Append(delta));
        for (int i = 0; i < n; i++)
        {
            var alone = generator.Generate(prompt, 1, options with { Seed = options.Seed + i })[0];
            Assert.Equal(alone.TokenIds, batched[i].TokenIds);
            Assert.Equal(alone.Text, batched[i].Text);
            Assert.Equal(alone.FinishReason, batched[i].FinishReason);
            Assert.Equal(batched[i].Text, streamed[i].ToString());
        }
        Assert.Equal(FinishReason.Stop, batched[0].FinishReason); // sample 0 stopped early and left the batch
        Assert.True(batched[0].Tokens < 40);
        Assert.True(batched.Select(b => b.Text).Distinct().Count() > 1, "different seeds should give different samples");
    }

    [Fact]
    public void Cancellation_stops_within_one_step()
    {
        var generator = NewGenerator();
        using var cts = new CancellationTokenSource();
        int calls = 0;
        var results = generator.Generate(fixture.PythonPrompt(60), 2, new SamplingOptions(MaxNewTokens: 100, Temperature: 1f),
            (i, _) => { if (i == 1 && ++calls == 5) cts.Cancel(); }, cts.Token);
        Assert.All(results, r => Assert.Equal(FinishReason.Cancelled, r.FinishReason));
        Assert.All(results, r => Assert.Equal(5, r.Tokens));

        var before = generator.Generate("x = 1", 1, new SamplingOptions(), null, cts.Token)[0];
        Assert.Equal((FinishReason.Cancelled, 0, ""), (before.FinishReason, before.Tokens, before.Text));
    }

    [Fact]
    public void Fim_prompts_are_laid_out_token_for_token_as_the_trainer_builds_them()
    {
        var tok = fixture.Tokenizer;
        var generator = NewGenerator();
        var document = tok.Encode(LanguageTag.Prefix("Python") + fixture.PythonPrompt(300, file: 4));
        var fimTokens = new FimTokens(tok.EndOfText, tok.FimPrefix, tok.FimMiddle, tok.FimSuffix);
        Func<int[], string> decode = ids => tok.Decode(ids);
        for (int seed = 0; seed < 5; seed++)
        {
            var psm = new FimTransform(tok.Encode, decode, fimTokens, rate: 1, spmRate: 0).Apply(document, new Random(seed));
            var spm = new FimTransform(tok.Encode, decode, fimTokens, rate: 1, spmRate: 1).Apply(document, new Random(seed)); // same cut points
            int suffixAt = Array.IndexOf(psm, tok.FimSuffix), middleAt = Array.IndexOf(psm, tok.FimMiddle);
            string prefix = tok.Decode(psm.AsSpan(1, suffixAt - 1)), suffix = tok.Decode(psm.AsSpan(suffixAt + 1, middleAt - suffixAt - 1));
            Assert.StartsWith("# language: Python\n", prefix);

            var options = new SamplingOptions(MaxNewTokens: 16);
            Assert.Equal(psm[..(middleAt + 1)], generator.BuildFimPrompt(prefix, suffix, options));
            var mine = generator.BuildFimPrompt(prefix, suffix, options with { FimFormat = FimFormat.Spm });
            Assert.Equal(spm[..mine.Length], mine);
            Assert.Equal(tok.FimMiddle, spm[mine.Length - 1 - tok.Encode(prefix).Length]);
        }
    }

    [Fact]
    public void Long_fim_inputs_keep_the_tag_the_prefix_end_and_the_suffix_start_within_budget()
    {
        var tok = fixture.Tokenizer;
        var generator = NewGenerator();
        string body = fixture.PythonFiles[0], tag = LanguageTag.Prefix("Python");
        string prefix = tag + body, suffix = fixture.PythonFiles[1];
        var options = new SamplingOptions(MaxNewTokens: 32) { MaxPromptTokens = 203 };
        var ids = generator.BuildFimPrompt(prefix, suffix, options);
        Assert.Equal(203, ids.Length);
        int suffixAt = Array.IndexOf(ids, tok.FimSuffix);
        var tagIds = tok.Encode(tag);
        var bodyIds = tok.Encode(body);
        var keptPrefix = ids[1..suffixAt];
        var keptSuffix = ids[(suffixAt + 1)..^1];
        Assert.Equal(tagIds, keptPrefix[..tagIds.Length]);
        Assert.Equal(bodyIds[^(keptPrefix.Length - tagIds.Length)..], keptPrefix[tagIds.Length..]);
        Assert.Equal(tok.Encode(suffix)[..keptSuffix.Length], keptSuffix);
        Assert.Equal(150, keptPrefix.Length); // round(200 * 0.75)
        Assert.Equal(tok.FimMiddle, ids[^1]);

        var middle = generator.GenerateFim(prefix, suffix, 1, options with { Temperature = 1f })[0];
        Assert.Equal(203, middle.PromptTokens);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_keeps_its_end_and_generates()
    {
        var tok = fixture.Tokenizer;
        var generator = NewGenerator();
        var text = string.Concat(fixture.PythonFiles.Take(3));
        var ids = tok.Encode(text);
        Assert.True(ids.Length > 2000);
        var options = new SamplingOptions(MaxNewTokens: 20);
        var prompt = generator.BuildPrompt(text, options);
        Assert.Equal(492, prompt.Length);
        Assert.Equal(ids[^492..], prompt);
        var result = generator.Generate(text, 2, options with { Temperature = 0.8f });
        Assert.All(result, r => Assert.Equal((492, FinishReason.Length, 20), (r.PromptTokens, r.FinishReason, r.Tokens)));
    }

    [Fact]
    public void Generation_ends_when_the_context_is_full()
    {
        var generator = NewGenerator();
        var prompt = generator.BuildPrompt(string.Concat(fixture.PythonFiles.Take(3)), new SamplingOptions(MaxNewTokens: 1) { MaxPromptTokens = 500 });
        var result = generator.GenerateTokens(prompt, 1, new SamplingOptions(MaxNewTokens: 100, Temperature: 1f))[0];
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(13, result.Tokens); // 500 prompt + 12 fed tokens fill the 512 positions; the 13th is read off the last one
    }

    [Fact]
    public void End_of_text_from_the_model_ends_the_sample_and_is_not_in_the_text()
    {
        var tok = fixture.Tokenizer;
        var generator = NewGenerator();
        var prompt = tok.Encode("def f():\n    return 1\n");
        // make end-of-text the likeliest next token at every step through the observer: the sampler reads the logits after it
        generator.OnLogits = (step, _, logits) => { if (step == 3) logits[.., tok.EndOfText].fill_(1e4f); };
        var result = generator.GenerateTokens(prompt, 1, new SamplingOptions(MaxNewTokens: 20))[0];
        Assert.Equal(FinishReason.EndOfText, result.FinishReason);
        Assert.Equal(3, result.Tokens);
        Assert.DoesNotContain("<|endoftext|>", result.Text);
    }

    [Fact]
    public void Reusing_the_kv_cache_across_calls_decodes_as_a_fresh_prefill_does()
    {
        using var reusing = new Generator(fixture.Model, fixture.Tokenizer, CPU, new GeneratorOptions(ReuseKvCache: true, OneThreadSteps: true));
        var fresh = NewGenerator();
        var start = fixture.PythonPrompt(200, file: 5);
        string[] prompts = [start, start + "    return", start + "    return None\n", fixture.PythonPrompt(120, file: 6), start];
        foreach (var prompt in prompts.Concat(prompts))
        {
            var greedy = new SamplingOptions(MaxNewTokens: 24);
            Assert.Equal(fresh.Generate(prompt, 1, greedy)[0].TokenIds, reusing.Generate(prompt, 1, greedy)[0].TokenIds);
            var sampled = greedy with { Temperature = 0.9f, TopP = 0.95f, RepetitionPenalty = 1.1f, Seed = 21 };
            var expected = fresh.Generate(prompt, 3, sampled);
            var actual = reusing.Generate(prompt, 3, sampled);
            for (int i = 0; i < 3; i++) Assert.Equal(expected[i].TokenIds, actual[i].TokenIds);
        }
    }

    [Fact]
    public void A_text_callback_ends_its_sample_and_one_thread_steps_leave_the_thread_count_as_it_was()
    {
        using var generator = new Generator(fixture.Model, fixture.Tokenizer, CPU, new GeneratorOptions(OneThreadSteps: true));
        var prompt = generator.BuildPrompt(fixture.PythonPrompt(80, file: 7), new SamplingOptions());
        var options = new SamplingOptions(MaxNewTokens: 40, Temperature: 1f, Seed: 5);
        var free = generator.Decode(prompt, 1, options, null)[0];
        int threads = TorchSharp.torch.get_num_threads(), pieces = 0;
        var streamed = new StringBuilder();
        var stopped = generator.Decode(prompt, 1, options, (_, delta) =>
        {
            streamed.Append(delta);
            return delta.Length > 0 && ++pieces == 3;
        })[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(streamed.ToString(), stopped.Text);
        Assert.StartsWith(stopped.Text, free.Text);
        Assert.True(stopped.Tokens < free.Tokens);
        Assert.Equal(free.TokenIds.Take(stopped.Tokens), stopped.TokenIds);
        Assert.Equal(threads, TorchSharp.torch.get_num_threads());
    }

    [Fact]
    public void Load_reads_a_checkpoint_or_the_best_checkpoint_of_a_run_directory()
    {
        using var dir = new CodeLm.Tests.TempDir();
        var run = Path.Combine(dir.Path, "run");
        var best = RandomCheckpoint.Create(Path.Combine(run, "best"), fixture.Tokenizer, seed: 9);
        Assert.Equal(best, Checkpoint.Resolve(run));
        var options = new SamplingOptions(MaxNewTokens: 12, Temperature: 0.7f, Seed: 4);
        using var runGenerator = Generator.Load(run, CPU);
        using var bestGenerator = Generator.Load(best, CPU);
        var fromRun = runGenerator.Generate("import os\n", 1, options)[0];
        var fromBest = bestGenerator.Generate("import os\n", 1, options)[0];
        Assert.Equal(fromBest.TokenIds, fromRun.TokenIds);
        Assert.Equal(12, fromRun.Tokens);
        var missing = Assert.Throws<DirectoryNotFoundException>(() => Generator.Load(Path.Combine(dir.Path, "nope"), CPU));
        Assert.Contains("does not exist", missing.Message);
    }
}
