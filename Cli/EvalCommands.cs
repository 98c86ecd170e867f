using CodeLm.Common;
using System.CommandLine;
using System.Globalization;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Generation;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Native;
using CodeLm.Pipeline;
using Spectre.Console;

namespace CodeLm.Cli;

/// <summary>`codelm eval run` (generate + execute + score) and `codelm eval score` (execute + score given samples).</summary>
public static class EvalCommands
{
    public static Command Create()
    {
        var cmd = new Command("eval", "HumanEval-style pass@k: run candidates in a sandbox (Python, C#, JavaScript, C++, Java, Go, Rust) and score them.");
        cmd.Add(CreateScore());
        cmd.Add(CreateRun());
        return cmd;
    }

    private sealed record Common(Option<string> Problems, Option<string?> Language, Option<int> Limit, Option<string> K, Option<int> Jobs,
        Option<double> Timeout, Option<string?> Out);

    private static Common CommonOptions() => new(
        new Option<string>("--problems") { Description = "Problem file: HumanEval JSONL or HumanEval-X layout (task ids like CPP/0), .gz or plain; or 'builtin' for the small set shipped with CodeLm.", Required = true },
        new Option<string?>("--language") { Description = "Only problems in this language; also names the language of task ids without a known prefix (e.g. Python, C#, JavaScript, C++, Java, Go, Rust)." },
        new Option<int>("--limit") { Description = "Only the first N problems (0 = all).", DefaultValueFactory = _ => 0 },
        new Option<string>("--k") { Description = "Comma-separated k values for pass@k; a k is reported only where every problem has at least k samples.", DefaultValueFactory = _ => string.Join(",", ScoreOptions.DefaultK) },
        new Option<int>("--jobs", "-j") { Description = "Candidates executed in parallel.", DefaultValueFactory = _ => Environment.ProcessorCount },
        new Option<double>("--timeout") { Description = "Wall-clock seconds per candidate run (compilation has its own allowance).", DefaultValueFactory = _ => ExecutorOptions.DefaultTimeout.TotalSeconds },
        new Option<string?>("--out") { Description = "Output directory for results.jsonl and summary.json (and samples.jsonl for `run`). Rerunning with the same directory resumes." });

    private static Command CreateScore()
    {
        var c = CommonOptions();
        var samples = new Option<string?>("--samples") { Description = "Samples JSONL (.gz or plain): one {\"task_id\", \"completion\"} per line, several lines per task for n > 1." };
        var canonical = new Option<bool>("--canonical") { Description = "Score each problem's canonical solution instead of samples (checks the harness and toolchains)." };
        var cmd = new Command("score", "Execute completions produced elsewhere and report pass@k per language. Results: <out>/results.jsonl (per problem: passed, failed, timed out, compile error, stderr excerpt) and <out>/summary.json.")
        {
            c.Problems, samples, canonical, c.Language, c.Limit, c.K, c.Jobs, c.Timeout, c.Out,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var problems = LoadProblems(parse, c);
            var samplesPath = parse.GetValue(samples);
            if (samplesPath is null == !parse.GetValue(canonical)) throw new UserFacingException("give either --samples <file> or --canonical.");
            var list = samplesPath is null
                ? problems.Select(p => new Sample(p.TaskId, p.CanonicalSolution)).ToList()
                : SampleFile.Load(samplesPath).ToList();
            if (samplesPath is not null)
            {
                // With --language/--limit, score only the samples of the selected problems.
                var ids = problems.Select(p => p.TaskId).ToHashSet();
                if (parse.GetValue(c.Language) is not null || parse.GetValue(c.Limit) > 0) list = list.Where(s => ids.Contains(s.TaskId)).ToList();
            }
            var outDir = parse.GetValue(c.Out) ?? (samplesPath is null ? Path.Combine("runs", "eval", "canonical") : samplesPath + ".eval");
            return await ScoreAndReportAsync(parse, c, problems, list, outDir, ct);
        });
        return cmd;
    }

    private static Command CreateRun()
    {
        var c = CommonOptions();
        var defaults = new EvalSampling();
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory, or a training run directory (uses best/, else the latest checkpoint).", Required = true };
        var n = new Option<int>("--n", "-n") { Description = "Samples per problem.", DefaultValueFactory = _ => defaults.Samples };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature (0 = greedy; use n = 1 then).", DefaultValueFactory = _ => defaults.Temperature };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1 = off).", DefaultValueFactory = _ => defaults.TopP };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens generated per sample.", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var seed = new Option<long>("--seed") { Description = "Base random seed (each problem derives its own from it).", DefaultValueFactory = _ => defaults.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var precision = PrecisionOption.Create();
        var cmd = new Command("run", "Generate n completions per problem with a checkpoint (language tag prepended, per-language stop sequences, cut at the end of the function), execute them in the sandbox and report pass@k. Writes <out>/samples.jsonl, results.jsonl, summary.json; rerunning resumes.")
        {
            checkpoint, c.Problems, n, temperature, topP, maxNew, seed, device, precision, c.Language, c.Limit, c.K, c.Jobs, c.Timeout, c.Out,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var problems = LoadProblems(parse, c);
            var dir = parse.GetValue(checkpoint)!;
            if (!Directory.Exists(dir)) throw new UserFacingException($"checkpoint directory not found: {dir}");
            var outDir = parse.GetValue(c.Out) ?? Path.Combine("runs", "eval", Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/')));
            var options = new SamplingOptions(parse.GetValue(maxNew), parse.GetValue(temperature), 0, parse.GetValue(topP), 1, null, parse.GetValue(seed)).Validate();
            var samples = int.Max(1, parse.GetValue(n));
            var dev = Devices.Resolve(parse.GetValue(device)!);
            // The server's CPU path; every call prefills its whole prompt, so a resumed run draws what an uninterrupted one would.
            var run = new GeneratorOptions(OneThreadSteps: true, Precision: PrecisionOption.Value(parse, precision));
            using var generator = Generator.Load(dir, dev, line => Console.Error.WriteLine($"codelm eval: {line}"), run);
            Console.Error.WriteLine($"codelm eval: generating {samples} sample(s) for {problems.Count} problems with {Checkpoint.Resolve(dir)} on {dev.type} ({generator.Weights})");
            var source = new GeneratorCompletionSource(generator, options);
            var samplesPath = Path.Combine(outDir, "samples.jsonl");
            Directory.CreateDirectory(outDir);
            var generated = await WithProgressAsync("generating", problems.Count, report =>
                Task.Run(() => SampleGenerator.Generate(source, problems, samples, samplesPath,
                    new Progress<GenerationProgress>(p => report(p.DoneProblems, $"{p.DoneProblems}/{p.TotalProblems} problems")), ct), ct));
            return await ScoreAndReportAsync(parse, c, problems, generated.ToList(), outDir, ct);
        });
        return cmd;
    }

    private static IReadOnlyList<Problem> LoadProblems(ParseResult parse, Common c)
    {
        var language = parse.GetValue(c.Language);
        var path = parse.GetValue(c.Problems)!;
        // For a HumanEval-X file, --language filters; for plain HumanEval ids it names the language.
        var all = path == ProblemSet.BuiltinName ? ProblemSet.LoadBuiltin() : LoadNaming(path, language);
        var normalized = language is null ? null : EvalLanguages.Normalize(language)
            ?? throw new OptionException("Language", $"'{language}' is not a language the harness runs (supported: {string.Join(", ", EvalLanguages.All)})");
        var selected = all.Where(p => normalized is null || p.Language == normalized).ToList();
        if (parse.GetValue(c.Limit) is > 0 and var limit) selected = selected.Take(limit).ToList();
        if (selected.Count == 0) throw new UserFacingException($"no problems in {path}{(normalized is null ? "" : " for " + normalized)}");
        return selected;
    }

    private static IReadOnlyList<Problem> LoadNaming(string path, string? language)
    {
        try { return ProblemSet.Load(path); }
        catch (UnknownProblemLanguageException) when (language is not null) { return ProblemSet.Load(path, language); }
    }

    private static IReadOnlyList<int> ParseK(string text)
    {
        var ks = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            ks.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) && k >= 1 ? k
                : throw new UserFacingException($"--k: '{part}' is not a positive integer"));
        return ks.Count > 0 ? ks : throw new UserFacingException("--k needs at least one value");
    }

    private static async Task<int> ScoreAndReportAsync(ParseResult parse, Common c, IReadOnlyList<Problem> problems, List<Sample> samples, string outDir, CancellationToken ct)
    {
        var ks = ParseK(parse.GetValue(c.K)!);
        var jobs = parse.GetValue(c.Jobs);
        if (jobs < 1) throw new UserFacingException("--jobs must be at least 1");
        var timeout = parse.GetValue(c.Timeout);
        if (!(timeout > 0)) throw new UserFacingException("--timeout must be positive");

        var languages = problems.Select(p => p.Language).Distinct().ToList();
        using var executor = await CandidateExecutor.CreateAsync(languages, new ExecutorOptions(TimeSpan.FromSeconds(timeout)), ct);
        foreach (var note in executor.SandboxNotes) Console.Error.WriteLine($"sandbox: {note}");
        foreach (var (lang, s) in executor.Toolchains.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            Console.Error.WriteLine($"toolchain {lang}: {(s.Available ? "available" : "UNAVAILABLE")} ({s.Detail})");

        var total = samples.Count;
        var summary = await WithProgressAsync("executing", total, report =>
            EvalScorer.ScoreAsync(executor, problems, samples, new ScoreOptions(outDir, ks, jobs),
                new Progress<EvalProgress>(p => report(p.DoneSamples, $"{p.DoneSamples}/{p.TotalSamples} samples, {p.PassedSamples} passed" +
                    (p.ResumedProblems > 0 ? $", {p.ResumedProblems} problems resumed" : ""))), ct));

        var table = new Table().Title("pass@k");
        var kCols = ks.Distinct().Order().Select(k => $"pass@{k}").ToList();
        foreach (var col in new[] { "language", "problems", "samples" }.Concat(kCols).Concat(["passed", "failed", "timed out", "compile error"]))
            table.AddColumn(col);
        foreach (var row in summary.Languages)
        {
            string S(string status) => row.Statuses.TryGetValue(status, out var v) ? v.ToString(CultureInfo.InvariantCulture) : "0";
            var cells = new List<string> { row.Language, row.Problems.ToString(CultureInfo.InvariantCulture), row.Samples.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(kCols.Select(k => row.PassAtK.TryGetValue(k, out var v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-"));
            cells.AddRange([S("passed"), S("failed"), S("timed_out"), S("compile_error")]);
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 160;
        AnsiConsole.Write(table);
        foreach (var row in summary.Languages.Where(r => r.Note is not null)) Console.WriteLine($"{row.Language}: {row.Note}");
        Console.WriteLine($"results: {Path.Combine(outDir, "results.jsonl")}");
        Console.WriteLine($"summary: {Path.Combine(outDir, "summary.json")}");
        return 0;
    }

    /// <summary>A bar with ETA on a terminal; in a log, a line every tenth of the work.</summary>
    private static Task<T> WithProgressAsync<T>(string what, int total, Func<Action<int, string>, Task<T>> work)
    {
        var lastDecile = -1;
        return CliProgress.RunAsync(bars => work((done, text) => bars.Update(new(what, $"{what}: {text}", done, Math.Max(1, total)))),
            plain: u =>
            {
                var decile = total == 0 ? 10 : (int)u.Value * 10 / total;
                if (decile == lastDecile) return null;
                lastDecile = decile;
                return $"codelm eval: {u.Label}";
            });
    }
}
