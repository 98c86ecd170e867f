using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CodeLm.Common;
using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;

namespace CodeLm.Cli;

/// <summary>`codelm sample`: completions (or fill-in-the-middle) from a checkpoint, streamed to stdout.</summary>
public static class SampleCommands
{
    public static Command Create()
    {
        var defaults = new SamplingOptions();
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory, or a training run directory (uses best/, else the latest checkpoint).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text, or --prompt=@path to read a UTF-8 file. In FIM mode (with --suffix) this is the code before the cursor.", Required = true };
        var suffix = new Option<string?>("--suffix") { Description = "Code after the cursor (text, or --suffix=@path): switches to fill-in-the-middle." };
        var language = new Option<string?>("--language") { Description = "Prepend the language tag line the model was trained with (e.g. Python, C#), unless the prompt already starts with one." };
        var n = new Option<int>("--n", "-n") { Description = "Samples to draw (one batch sharing the prompt's prefill).", DefaultValueFactory = _ => 1 };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate per sample.", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy; higher = more random.", DefaultValueFactory = _ => defaults.Temperature };
        var topK = new Option<int>("--top-k") { Description = "Sample only among the k likeliest tokens (0 = off).", DefaultValueFactory = _ => defaults.TopK };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling: the smallest set of tokens with this much probability (1 = off).", DefaultValueFactory = _ => defaults.TopP };
        var repetition = new Option<float>("--repetition-penalty") { Description = "Penalize tokens already present (1 = off, 1.1-1.3 typical).", DefaultValueFactory = _ => defaults.RepetitionPenalty };
        var stop = new Option<string[]>("--stop") { Description = "Stop sequence (repeatable); C escapes \\n \\t \\\\ are decoded, e.g. --stop '\\ndef ' --stop '\\nclass '. The stop text is trimmed.", AllowMultipleArgumentsPerToken = false };
        var seed = new Option<long>("--seed") { Description = "Random seed; sample i uses seed + i.", DefaultValueFactory = _ => defaults.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (0 = torch's default).", DefaultValueFactory = _ => 0 };
        var fimFormat = new Option<FimFormat>("--fim-format") { Description = "FIM sentinel order: Psm (prefix, suffix, middle) or Spm.", DefaultValueFactory = _ => defaults.FimFormat };
        var prefixShare = new Option<double>("--fim-prefix-share") { Description = "Share of the prompt budget kept for the prefix when prefix and suffix do not both fit.", DefaultValueFactory = _ => defaults.FimPrefixShare };
        var precision = PrecisionOption.Create();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per sample (index, text, tokens, finish_reason, prompt_tokens) instead of text." };

        var cmd = new Command("sample", "Generate a completion (or fill-in-the-middle) from a checkpoint. Text goes to stdout (streamed when -n 1); timing to stderr.")
        {
            checkpoint, prompt, suffix, language, n, maxNew, temperature, topK, topP, repetition, stop, seed, device, threads, precision, fimFormat, prefixShare, json,
        };
        cmd.SetAction((parse, ct) => Task.Run(() =>
        {
            var options = new SamplingOptions(parse.GetValue(maxNew), parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(topP),
                parse.GetValue(repetition), (parse.GetValue(stop) ?? []).Select(Unescape).ToArray(), parse.GetValue(seed))
            {
                FimFormat = parse.GetValue(fimFormat),
                FimPrefixShare = parse.GetValue(prefixShare),
            }.Validate();
            int samples = parse.GetValue(n);
            if (samples < 1) throw new UserFacingException($"--n must be at least 1 (got {samples}).");
            var before = ReadText(parse.GetValue(prompt)!, "--prompt");
            var after = parse.GetValue(suffix) is { } s ? ReadText(s, "--suffix") : null;
            if (parse.GetValue(language) is { } lang && LanguageTag.ReadLine(before) is null) before = LanguageTag.Prefix(lang) + before;
            bool asJson = parse.GetValue(json);

            var dev = Devices.Resolve(parse.GetValue(device)!);
            if (parse.GetValue(threads) is > 0 and var t) TorchSharp.torch.set_num_threads(t);
            var dir = parse.GetValue(checkpoint)!;
            var loadClock = Stopwatch.StartNew();
            // The server's CPU path: the weights --precision picks, one torch thread for one-sequence steps.
            var run = new GeneratorOptions(OneThreadSteps: true, Precision: PrecisionOption.Value(parse, precision));
            using var generator = Generator.Load(dir, dev, line => Console.Error.WriteLine($"codelm sample: {line}"), run);
            Console.Error.WriteLine($"codelm sample: {Checkpoint.Resolve(dir)} on {dev.type} ({generator.Model.ParameterCount() / 1e6:F1}M parameters, context {generator.ContextLength}, {generator.Weights}), loaded in {loadClock.Elapsed.TotalSeconds:F1} s");

            var stdout = Console.Out;
            bool stream = samples == 1 && !asJson;
            Action<int, string>? onToken = stream ? (_, delta) => { stdout.Write(delta); stdout.Flush(); } : null;
            var clock = Stopwatch.StartNew();
            var results = after is null
                ? generator.Generate(before, samples, options, onToken, ct)
                : generator.GenerateFim(before, after, samples, options, onToken, ct);
            double seconds = clock.Elapsed.TotalSeconds;

            for (int i = 0; i < results.Count; i++)
            {
                var r = results[i];
                if (asJson)
                    stdout.WriteLine(JsonSerializer.Serialize(new { index = i, text = r.Text, tokens = r.Tokens, finish_reason = r.FinishReason.Name(), prompt_tokens = r.PromptTokens }));
                else if (stream)
                    stdout.WriteLine();
                else
                {
                    stdout.WriteLine($"──── sample {i} ({r.FinishReason.Name()}, {r.Tokens} tokens) ────");
                    stdout.WriteLine(r.Text);
                }
            }
            int total = results.Sum(r => r.Tokens);
            Console.Error.WriteLine($"codelm sample: {results.Count} sample(s), {total} tokens in {seconds:F2} s ({total / Math.Max(seconds, 1e-9):F1} tokens/s), prompt {results[0].PromptTokens} tokens, finish: {string.Join(", ", results.Select(r => r.FinishReason.Name()))}");
            return results.Any(r => r.FinishReason == FinishReason.Cancelled) ? ExitCodes.Cancelled : ExitCodes.Ok;
        }));
        return cmd;
    }

    /// <summary>Literal text, or the contents of the file after '@' (UTF-8).</summary>
    private static string ReadText(string value, string option)
    {
        if (!value.StartsWith('@')) return value;
        var path = value[1..];
        if (!File.Exists(path)) throw new UserFacingException($"{option}: file '{path}' does not exist.");
        return File.ReadAllText(path, Encoding.UTF8);
    }

    /// <summary>Decodes \n, \r, \t and \\ so stop sequences with newlines can be typed in a shell.</summary>
    internal static string Unescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 == s.Length) { sb.Append(s[i]); continue; }
            char c = s[++i];
            switch (c)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case '\\': sb.Append('\\'); break;
                default: sb.Append('\\').Append(c); break;
            }
        }
        return sb.ToString();
    }
}
