using CodeLm.Common;
using CodeLm.Eval.Generation;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;
using CodeLm.Pipeline;
using CodeLm.Model;
using CodeLm.Tests;
using CodeLm.Tokenizer.Training;
using CodeLm.Tokenizer;

namespace CodeLm.Eval.Tests;

[Collection(ExecutorCollection.Name)]
public sealed class SampleGenerationTests(ExecutorFixture fixture)
{
    /// <summary>
    /// Another model, seen through the interface: it answers each problem with the canonical solution followed by junk
    /// that would break the program (a second function, a stray main), as real models do when they do not stop.
    /// </summary>
    private sealed class RamblingSource(IReadOnlyList<Problem> problems) : ICompletionSource
    {
        public List<(string Prompt, IReadOnlyList<string> Stop)> Calls { get; } = [];

        public IReadOnlyList<string> Complete(string prompt, int n, IReadOnlyList<string> stop, CancellationToken ct)
        {
            Calls.Add((prompt, stop));
            var p = problems.Single(p => prompt.EndsWith(p.Prompt, StringComparison.Ordinal));
            var junk = p.Language == EvalLanguages.Python ? "\nraise SystemExit(3)\n" : "\nint main( {{ garbage\n";
            return Enumerable.Repeat(p.CanonicalSolution + junk, n).ToList();
        }

        public IReadOnlyList<string> Infill(string prefix, string suffix, int n, Func<string, bool> shouldStop, CancellationToken ct) =>
            throw new NotSupportedException();
    }

    [Fact]
    public async Task Generated_samples_get_the_language_tag_and_stops_are_cut_at_the_function_end_and_resume()
    {
        // One problem per language keeps this quick; the builtin-set test covers them all.
        var problems = ProblemSet.LoadBuiltin().Where(p => fixture.Executor.IsAvailable(p.Language)).GroupBy(p => p.Language).Select(g => g.First()).ToList();
        using var dir = new TempDir();
        var source = new RamblingSource(problems);
        var samples = SampleGenerator.Generate(source, problems, 2, dir.File("samples.jsonl"));
        Assert.Equal(problems.Count * 2, samples.Count);
        Assert.All(source.Calls, c => Assert.StartsWith("// language: ", c.Prompt.Replace("# language: Python", "// language: Python")));
        Assert.Contains(source.Calls, c => c.Prompt.StartsWith(LanguageTag.Prefix("C#"), StringComparison.Ordinal));
        Assert.All(source.Calls, c => Assert.NotEmpty(c.Stop));

        var summary = await EvalScorer.ScoreAsync(fixture.Executor, problems, samples.ToList(), new ScoreOptions(dir.File("eval"), [1, 2], 2));
        Assert.All(summary.Languages, l => Assert.Equal(1.0, l.PassAtK["pass@2"]));

        // Rerun after a crash mid-write (torn last line): every problem already has its samples; the source is not asked again.
        File.AppendAllText(dir.File("samples.jsonl"), "{\"task_id\":\"Py");
        var calls = source.Calls.Count;
        var again = SampleGenerator.Generate(source, problems, 2, dir.File("samples.jsonl"));
        Assert.Equal(calls, source.Calls.Count);
        Assert.Equal(samples.Select(s => s.Completion), again.Select(s => s.Completion));
        Assert.Equal(samples.Count, SampleFile.Load(dir.File("samples.jsonl")).Count);
    }

    [Fact]
    public async Task The_model_generator_backs_eval_run_end_to_end()
    {
        TorchNativeLoader.EnsureLoaded();
        var problems = ProblemSet.LoadBuiltin().Where(p => p.Language is EvalLanguages.Python).ToList();
        using var dir = new TempDir();
        var text = ProblemSet.LoadBuiltin().Select(p => LanguageTag.Prefix(p.Language) + p.Prompt + p.CanonicalSolution + p.Test).ToList();
        BpeTrainer.Train(text, new BpeTrainerOptions(VocabSize: 400, MinFrequency: 1)).Save(dir.File("tok"));
        var tokenizer = CodeTokenizer.Load(dir.File("tok"));
        RandomCheckpoint.Create(dir.File("ckpt"), tokenizer, seed: 7);
        using var generator = Generator.Load(dir.File("ckpt"), Devices.Resolve("cpu"));
        var source = new GeneratorCompletionSource(generator, new SamplingOptions(MaxNewTokens: 16, Temperature: 0.8f, TopP: 0.95f, Seed: 1));

        var raw = source.Complete(SampleGenerator.BuildPrompt(problems[0]), 3, StopSequences.For(EvalLanguages.Python), CancellationToken.None);
        Assert.Equal(3, raw.Count);
        Assert.Equal(raw, source.Complete(SampleGenerator.BuildPrompt(problems[0]), 3, StopSequences.For(EvalLanguages.Python), CancellationToken.None));

        var samples = SampleGenerator.Generate(source, problems, 2, dir.File("run/samples.jsonl"));
        var summary = await EvalScorer.ScoreAsync(fixture.Executor, problems, samples.ToList(), new ScoreOptions(dir.File("run"), [1, 2], 2));
        // An untrained model solves nothing, but every sample is executed and judged.
        Assert.All(summary.Languages, l => Assert.Equal(0.0, l.PassAtK["pass@1"]));
        Assert.Equal(problems.Count, ResultsFile.Load(dir.File("run/results.jsonl")).Count);
    }
}
