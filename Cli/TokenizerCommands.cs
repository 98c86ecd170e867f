using System.CommandLine;
using CodeLm.DataPipeline.Shards;
using CodeLm.Tokenizer;
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
        var defaults = new TokenizerTrainingOptions("", "");
        var corpus = new Option<string>("--corpus") { Description = "Corpus directory (train.parquet, validation.parquet) from `codelm data build`. Only train.parquet is sampled.", Required = true };
        var output = new Option<string>("--out") { Description = "Directory to write tokenizer.json, vocab.json and merges.txt to.", Required = true };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size, counting the 5 special tokens and 256 byte tokens.", DefaultValueFactory = _ => defaults.VocabSize };
        var minFreq = new Option<long>("--min-frequency") { Description = "Stop merging when the most frequent pair occurs fewer times than this.", DefaultValueFactory = _ => defaults.MinFrequency };
        var sample = new Option<long>("--sample-mb") { Description = "Train on a random sample of about this many MB (million chars) of the corpus; the whole corpus when smaller.", DefaultValueFactory = _ => 512 };
        var seed = new Option<int>("--seed") { Description = "Seed of the sample.", DefaultValueFactory = _ => defaults.Seed };
        var preTokenizer = new Option<SplitRule>("--pre-tokenizer")
        {
            Description = "How text is split before BPE: CodeLm (identifiers with '_' and tab runs stay whole) or Qwen2 (Qwen2.5-Coder's " +
                "split, which llama.cpp has built in, so a GGUF export tokenizes exactly as CodeLm does; see docs/model.md).",
            DefaultValueFactory = _ => defaults.PreTokenizer,
        };
        var threads = new Option<int>("--threads") { Description = "Threads for counting words (0 = all cores).", DefaultValueFactory = _ => defaults.Threads };
        var cmd = new Command("train", """
            Train a byte-level BPE tokenizer for code: identifiers stay whole, digits split, indentation runs compress to few tokens.
            Special tokens (ids 0..4): <|endoftext|> <fim_prefix> <fim_middle> <fim_suffix> <fim_pad>.
            Each sampled file is its language tag line plus its content, as in training.
            Example: codelm tokenizer train --corpus runs/corpus --out runs/tokenizer --vocab-size 32768
            """) { corpus, output, vocab, minFreq, sample, seed, preTokenizer, threads };
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new TokenizerTrainingOptions(parse.GetValue(corpus)!, parse.GetValue(output)!, parse.GetValue(vocab),
                parse.GetValue(minFreq), parse.GetValue(sample) * 1_000_000, parse.GetValue(seed), parse.GetValue(threads), parse.GetValue(preTokenizer));
            var started = DateTime.UtcNow;
            var result = await CliProgress.RunAsync(bars => TokenizerTraining.RunAsync(options, bars.For<BpeTrainingProgress>(p => p.Phase == "count"
                ? new("tokenizer", $"Training tokenizer: counting words ({p.Done:N0} files)", p.Done)
                : new("tokenizer", "Training tokenizer: merging", p.Done, p.Total)), ct));
            var table = new Table().AddColumns("tokenizer", "value");
            table.AddRow("directory", Markup.Escape(result.OutputDir));
            table.AddRow("vocabulary", $"{result.VocabSize:N0} ({result.Merges:N0} merges)");
            table.AddRow("sample", $"{result.SampledDocuments:N0} files, {result.SampledChars / 1e6:F1} M chars of {result.CorpusChars / 1e6:F1} M");
            table.AddRow("unique words", $"{result.UniqueWords:N0}");
            table.AddRow("time", $"{(DateTime.UtcNow - started).TotalSeconds:F1} s");
            AnsiConsole.Write(table);
            Console.WriteLine($"tokenizer: {result.OutputDir} (sha256 {result.Hash})");
            return 0;
        });
        return cmd;
    }
}
