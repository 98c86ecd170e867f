using System.CommandLine;
using CodeLm.DataPipeline.Shards;
using CodeLm.Tokenizer.Training;
using Spectre.Console;

namespace CodeLm.Cli;

/// <summary>`codelm tokenizer train`.</summary>
public static class TokenizerCommands
{
    public static Command Create()
    {
        var cmd = new Command("tokenizer", "Train a byte-level BPE tokenizer on a corpus.");
        cmd.Add(Train());
        return cmd;
    }

    private static Command Train()
    {
        var corpus = new Option<string>("--corpus") { Description = "Corpus directory (train.parquet, validation.parquet) from `codelm data build`. Only train.parquet is sampled.", Required = true };
        var output = new Option<string>("--out") { Description = "Directory to write tokenizer.json, vocab.json and merges.txt to.", Required = true };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size, counting the 5 special tokens and 256 byte tokens.", DefaultValueFactory = _ => 32768 };
        var minFreq = new Option<long>("--min-frequency") { Description = "Stop merging when the most frequent pair occurs fewer times than this.", DefaultValueFactory = _ => 2 };
        var sample = new Option<long>("--sample-mb") { Description = "Train on a random sample of about this many MB (million chars) of the corpus; the whole corpus when smaller.", DefaultValueFactory = _ => 512 };
        var seed = new Option<int>("--seed") { Description = "Seed of the sample.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Threads for counting words (0 = all cores).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("train", """
            Train a byte-level BPE tokenizer for code: identifiers stay whole, digits split, indentation runs compress to few tokens.
            Special tokens (ids 0..4): <|endoftext|> <fim_prefix> <fim_middle> <fim_suffix> <fim_pad>.
            Each sampled file is its language tag line plus its content, as in training.
            Example: codelm tokenizer train --corpus runs/corpus --out runs/tokenizer --vocab-size 32768
            """) { corpus, output, vocab, minFreq, sample, seed, threads };
        cmd.SetAction((parse, ct) => CliProgress.Guard(async () =>
        {
            var options = new TokenizerTrainingOptions(parse.GetValue(corpus)!, parse.GetValue(output)!, parse.GetValue(vocab),
                parse.GetValue(minFreq), parse.GetValue(sample) * 1_000_000, parse.GetValue(seed), parse.GetValue(threads));
            var started = DateTime.UtcNow;
            var result = await CliProgress.RunAsync<BpeTrainingProgress, TokenizerTrainingResult>("Training tokenizer",
                (progress, token) => TokenizerTraining.RunAsync(options, progress, token),
                p => p.Phase == "count" ? ($"counting words ({p.Done:N0} files)", p.Done, 0) : ("merging", p.Done, p.Total), ct);
            var table = new Table().AddColumns("tokenizer", "value");
            table.AddRow("directory", Markup.Escape(result.OutputDir));
            table.AddRow("vocabulary", $"{result.VocabSize:N0} ({result.Merges:N0} merges)");
            table.AddRow("sample", $"{result.SampledDocuments:N0} files, {result.SampledChars / 1e6:F1} M chars of {result.CorpusChars / 1e6:F1} M");
            table.AddRow("unique words", $"{result.UniqueWords:N0}");
            table.AddRow("sha256", result.Hash);
            table.AddRow("time", $"{(DateTime.UtcNow - started).TotalSeconds:F1} s");
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }
}

/// <summary>Live progress on stderr (when it is a terminal) for a library call that reports through IProgress.</summary>
internal static class CliProgress
{
    /// <summary>Turns expected failures (bad input, missing files, cancellation) into one clear line and an exit code.</summary>
    public static async Task<int> Guard(Func<Task<int>> action)
    {
        try { return await action(); }
        catch (OperationCanceledException) { Console.Error.WriteLine("codelm: cancelled (finished work is kept; rerun to resume)."); return 130; }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or InvalidOperationException)
        {
            Console.Error.WriteLine($"codelm: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("CODELM_DEBUG") == "1") Console.Error.WriteLine(e);
            return 1;
        }
    }

    public static async Task<TResult> RunAsync<TProgress, TResult>(string title,
        Func<IProgress<TProgress>, CancellationToken, Task<TResult>> work,
        Func<TProgress, (string Label, double Value, double Max)> describe, CancellationToken ct)
    {
        if (Console.IsErrorRedirected)
            return await work(new Progress<TProgress>(_ => { }), ct);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(title, maxValue: 1);
                task.IsIndeterminate = true;
                var reporter = new InlineProgress<TProgress>(p =>
                {
                    var (label, value, max) = describe(p);
                    task.Description = Markup.Escape($"{title}: {label}");
                    if (max > 0) { task.IsIndeterminate = false; task.MaxValue = max; task.Value = Math.Min(value, max); }
                });
                var result = await work(reporter, ct);
                task.StopTask();
                return result;
            });
    }

    private sealed class InlineProgress<T>(Action<T> onReport) : IProgress<T>
    {
        private readonly Lock _gate = new();
        public void Report(T value) { lock (_gate) onReport(value); }
    }
}
