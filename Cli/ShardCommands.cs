using System.CommandLine;
using CodeLm.DataPipeline.Distributed;
using CodeLm.DataPipeline.Shards;
using Spectre.Console;

namespace CodeLm.Cli;

/// <summary>`codelm data tokenize`.</summary>
public static class ShardCommands
{
    public static void AddTo(Command data)
    {
        var defaults = new ShardBuildOptions("", "", "");
        var corpus = new Option<string>("--corpus") { Description = "Corpus directory (train.parquet, validation.parquet).", Required = true };
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "Tokenizer: a directory from `codelm tokenizer train`, or a Hugging Face model folder holding tokenizer.json (its weights are not read).",
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "Shard directory to write (train/validation .bin/.idx, manifest.json, tokenizer/).", Required = true };
        var threads = new Option<int>("--threads") { Description = "Tokenizer threads (0 = all cores).", DefaultValueFactory = _ => defaults.Threads };
        var chunk = new Option<int>("--chunk-documents") { Description = "Documents per resumable work chunk.", DefaultValueFactory = _ => defaults.ChunkDocuments };
        var force = new Option<bool>("--force") { Description = "Rebuild even when the shards already match this corpus and tokenizer." };
        // No default value factory: help would print the enum's spelling ("Auto"); unset is TagLines.Auto all the same.
        var tagLines = new Option<TagLines>("--tag-lines")
        {
            Description = "Start each document with its language tag line (# language: Python): auto (the default: on for CodeLm tokenizers, " +
                          "off for a model's, which never saw the tag), on or off.",
        };
        tagLines.AcceptOnlyFromAmong("auto", "on", "off");
        var cmd = new Command("tokenize", """
            Tokenize a corpus into Megatron-LM indexed datasets (MMIDIDX v1: uint16 tokens below 65,500 vocab, else int32).
            Each file becomes one document in the tokenizer's conventions: for a CodeLm tokenizer its language tag line,
            its content, then <|endoftext|>; for a model's, its content then the model's own end-of-text (after its
            begin-of-text, for models that start with one).
            Interrupted runs resume from finished chunks; outputs appear atomically, manifest.json last.
            Example: codelm data tokenize --corpus runs/corpus --tokenizer runs/tokenizer --out runs/shards
                     codelm data tokenize --corpus runs/corpus --tokenizer models/Qwen2.5-Coder-0.5B --out runs/qwen-shards
            """) { corpus, tokenizer, output, threads, chunk, force, tagLines };
        var world = new Option<int>("--world-size") { Description = "Tokenize only this rank's share of the chunks (every N-th) into --out's work folder, for a cluster; a plain run afterwards concatenates them. 0: all of it.", DefaultValueFactory = _ => 0 };
        var rank = new Option<int?>("--rank") { Description = "With --world-size: this task's rank; default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX." };
        cmd.Add(world);
        cmd.Add(rank);
        cmd.SetAction(async (parse, ct) =>
        {
            var options = new ShardBuildOptions(parse.GetValue(corpus)!, parse.GetValue(tokenizer)!, parse.GetValue(output)!,
                parse.GetValue(threads), parse.GetValue(chunk), parse.GetValue(force), parse.GetValue(tagLines));
            var started = DateTime.UtcNow;
            if (parse.GetValue(world) > 0)
            {
                var r = parse.GetValue(rank) ?? SchedulerRank.FromEnvironment() ?? throw new UserFacingException("--world-size needs --rank R, or a Slurm array task or Kubernetes Indexed Job to run in");
                var (tokenized, reused) = await ShardBuilder.TokenizeShareAsync(options, r, parse.GetValue(world), null, ct);
                Console.WriteLine($"codelm data tokenize: rank {r} of {parse.GetValue(world)}: {tokenized} chunks tokenized, {reused} reused; run `codelm data tokenize` without --world-size once every rank is done");
                return ExitCodes.Ok;
            }
            var result = await CliProgress.RunAsync(bars => ShardBuilder.RunAsync(options, bars.For<ShardProgress>(p =>
                new("tokenize", $"Tokenizing: {p.Split} {p.Documents:N0}/{p.TotalDocuments:N0} files, {p.Tokens:N0} tokens", p.Documents, p.TotalDocuments)), ct));
            var m = result.Manifest;
            if (result.AlreadyUpToDate) Console.Error.WriteLine("codelm data tokenize: shards already match this corpus and tokenizer (use --force to rebuild).");
            var table = new Table().AddColumns("split", "language", "documents", "tokens");
            foreach (var (split, s) in m.Splits)
            {
                foreach (var (lang, tokens) in s.TokensByLanguage.OrderByDescending(kv => kv.Value))
                    table.AddRow(split, Markup.Escape(lang), $"{s.DocumentsByLanguage.GetValueOrDefault(lang):N0}", $"{tokens:N0}");
                table.AddRow($"[bold]{split}[/]", "[bold]all[/]", $"[bold]{s.Documents:N0}[/]", $"[bold]{s.Tokens:N0}[/]");
            }
            AnsiConsole.Write(table);
            var documents = m.Documents is { } d ? $"{(d.Tokenizer == Tokenizer.TokenizerKind.CodeLm ? "CodeLm" : "Hugging Face")} tokenizer, tag lines {(d.TagLines ? "on" : "off")}, " : "";
            Console.WriteLine($"shards: {result.OutputDir} ({m.TokenType}, vocab {m.VocabSize:N0}, {documents}tokenizer {m.TokenizerHash[..12]}, corpus {m.CorpusHash[..12]}); " +
                              $"{result.ChunksTokenized} chunks tokenized, {result.ChunksReused} reused, {(DateTime.UtcNow - started).TotalSeconds:F1} s");
            return 0;
        });
        data.Add(cmd);
    }

}
