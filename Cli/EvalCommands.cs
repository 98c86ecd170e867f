using CodeLm.Common;
using System.CommandLine;
using System.Globalization;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Generation;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;
using CodeLm.Eval.Tasks;
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
        var cmd = new Command("eval", "HumanEval-style pass@k: run candidates in a sandbox (Python, C#, JavaScript, C++, Java, Go, Rust) and score them; tasks: generation, HumanEval-X translation, single- and multi-line infilling.");
        cmd.Add(CreateScore());
        cmd.Add(CreateRun());
        return cmd;
    }

    private sealed record Common(Option<string> Problems, Option<string?> Language, Option<int> Limit, Option<string> K, Option<int> Jobs,
        Option<double> Timeout, Option<string?> Out, Option<string> Task, Option<string?> From, Option<string?> To);

    /// <summary>One set of problems scored together into its own directory: a task, or one language pair of translation.</summary>
    private sealed record Suite(string Name, IReadOnlyList<Problem> Problems, string OutDir);

    private static Common CommonOptions() => new(
        new Option<string>("--problems") { Description = "Problem file: HumanEval JSONL or HumanEval-X layout (task ids like CPP/0), .gz or plain; or 'builtin' for the small set shipped with CodeLm. For --task translate: the HumanEval-X directory (one <language>.jsonl.gz per language).", Required = true },
        new Option<string?>("--language") { Description = "Only problems in this language; also names the language of task ids without a known prefix (e.g. Python, C#, JavaScript, C++, Java, Go, Rust)." },
        new Option<int>("--limit") { Description = "Only the first N problems (0 = all).", DefaultValueFactory = _ => 0 },
        new Option<string>("--k") { Description = "Comma-separated k values for pass@k; a k is reported only where every problem has at least k samples.", DefaultValueFactory = _ => string.Join(",", ScoreOptions.DefaultK) },
        new Option<int>("--jobs", "-j") { Description = "Candidates executed in parallel.", DefaultValueFactory = _ => Environment.ProcessorCount },
        new Option<double>("--timeout") { Description = "Wall-clock seconds per candidate run (compilation has its own allowance).", DefaultValueFactory = _ => ExecutorOptions.DefaultTimeout.TotalSeconds },
        new Option<string?>("--out") { Description = "Output directory for results.jsonl, summary.json, metrics.json and generations.json (bigcode-evaluation-harness's formats), and samples.jsonl for `run`; translation writes one subdirectory per language pair. Rerunning with the same directory resumes." },
        new Option<string>("--task") { Description = "generate (complete a function from its docstring), translate (HumanEval-X translation, with --from and --to), infill-single or infill-multi (fill a masked line, or span of lines, of each canonical solution, shaped as the editor shapes it).", DefaultValueFactory = _ => "generate" },
        new Option<string?>("--from") { Description = "translate: source language(s), comma-separated, or 'all' (e.g. python)." },
        new Option<string?>("--to") { Description = "translate: target language(s), comma-separated, or 'all' (e.g. cpp,java); every pair but a language to itself is scored." });

    private static Command CreateScore()
    {
        var c = CommonOptions();
        var samples = new Option<string?>("--samples") { Description = "Samples JSONL (.gz or plain): one {\"task_id\", \"completion\"} per line, several lines per task for n > 1." };
        var generations = new Option<string?>("--load-generations") { Description = "bigcode-evaluation-harness generations JSON (one list of whole programs per problem, in problem order), e.g. made by `codelm eval run --generations-only` or by the harness itself." };
        var canonical = new Option<bool>("--canonical") { Description = "Score each problem's canonical solution instead of samples (checks the harness and toolchains)." };
        var cmd = new Command("score", "Execute completions produced elsewhere and report pass@k per language. Results: <out>/results.jsonl (per problem: passed, failed, timed out, compile error, stderr excerpt), <out>/summary.json and <out>/metrics.json.")
        {
            c.Problems, samples, generations, canonical, c.Task, c.From, c.To, c.Language, c.Limit, c.K, c.Jobs, c.Timeout, c.Out,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var samplesPath = parse.GetValue(samples);
            var generationsPath = parse.GetValue(generations);
            if (new[] { samplesPath is not null, generationsPath is not null, parse.GetValue(canonical) }.Count(b => b) != 1)
                throw new UserFacingException("give one of --samples <file>, --load-generations <file> or --canonical.");
            var outDir = parse.GetValue(c.Out) ?? (samplesPath ?? generationsPath) switch { null => Path.Combine("runs", "eval", "canonical"), var f => f + ".eval" };
            var skipped = new List<InvalidDataException>();
            var suites = LoadSuites(parse, c, outDir, skipped);
            if (samplesPath is not null && suites.Count > 1) throw new UserFacingException("--samples holds one set of task ids: score one language pair at a time (one --from, one --to).");
            using var executor = await CreateExecutorAsync(parse, c, suites, ct);
            var summaries = new Dictionary<string, EvalSummary>();
            foreach (var suite in suites)
            {
                var list = samplesPath is not null ? SamplesFor(parse, c, suite, SampleFile.Load(samplesPath))
                    : generationsPath is not null ? [.. HarnessFiles.LoadGenerations(generationsPath, suite.Problems)]
                    : suite.Problems.Select(p => new Sample(p.TaskId, p.CanonicalSolution)).ToList();
                summaries[suite.Name] = await ScoreAndReportAsync(parse, c, executor, suite, list, ct);
            }
            WriteMetrics(outDir, suites, summaries, new Dictionary<string, object?> { ["task"] = parse.GetValue(c.Task), ["problems"] = parse.GetValue(c.Problems) });
            return Outcome(skipped);
        });
        return cmd;
    }

    // With --language/--limit, only the samples of the selected problems; otherwise a sample for an unknown task is an error.
    private static List<Sample> SamplesFor(ParseResult parse, Common c, Suite suite, IReadOnlyList<Sample> samples)
    {
        if (parse.GetValue(c.Language) is null && parse.GetValue(c.Limit) <= 0) return [.. samples];
        var ids = suite.Problems.Select(p => p.TaskId).ToHashSet();
        return samples.Where(s => ids.Contains(s.TaskId)).ToList();
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
        var generationsOnly = new Option<bool>("--generations-only") { Description = "Generate and write samples.jsonl and generations.json, then stop: execute elsewhere with `codelm eval score --load-generations` (or with bigcode-evaluation-harness)." };
        var cmd = new Command("run", "Generate n completions per problem with a checkpoint (language tag prepended, per-language stop sequences, cut at the end of the function), execute them in the sandbox and report pass@k. Writes <out>/samples.jsonl, results.jsonl, summary.json; rerunning resumes.")
        {
            checkpoint, c.Problems, c.Task, c.From, c.To, n, temperature, topP, maxNew, seed, device, precision, generationsOnly, c.Language, c.Limit, c.K, c.Jobs, c.Timeout, c.Out,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var dir = parse.GetValue(checkpoint)!;
            if (!Directory.Exists(dir)) throw new UserFacingException($"checkpoint directory not found: {dir}");
            var outDir = parse.GetValue(c.Out) ?? Path.Combine("runs", "eval", Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/')));
            ValidateScoring(parse, c); // before generation, which can take hours
            var skipped = new List<InvalidDataException>();
            var suites = LoadSuites(parse, c, outDir, skipped);
            var options = new SamplingOptions(parse.GetValue(maxNew), parse.GetValue(temperature), 0, parse.GetValue(topP), 1, null, parse.GetValue(seed)).Validate();
            var samples = int.Max(1, parse.GetValue(n));
            var dev = Devices.Resolve(parse.GetValue(device)!);
            // The server's CPU path; every call prefills its whole prompt, so a resumed run draws what an uninterrupted one would.
            var run = new GeneratorOptions(OneThreadSteps: true, Precision: PrecisionOption.Value(parse, precision));
            using var generator = Generator.Load(dir, dev, line => Console.Error.WriteLine($"codelm eval: {line}"), run);
            var source = new GeneratorCompletionSource(generator, options);
            var generated = new Dictionary<string, List<Sample>>();
            foreach (var suite in suites)
            {
                Console.Error.WriteLine($"codelm eval: {suite.Name}: generating {samples} sample(s) for {suite.Problems.Count} problems with {Checkpoint.Resolve(dir)} on {dev.type} ({generator.Weights})");
                Directory.CreateDirectory(suite.OutDir);
                var list = await WithProgressAsync("generating", suite.Problems.Count, report =>
                    Task.Run(() => SampleGenerator.Generate(source, suite.Problems, samples, Path.Combine(suite.OutDir, "samples.jsonl"),
                        new Progress<GenerationProgress>(p => report(p.DoneProblems, $"{p.DoneProblems}/{p.TotalProblems} problems")), ct), ct));
                HarnessFiles.WriteGenerations(Path.Combine(suite.OutDir, "generations.json"), suite.Problems, list);
                generated[suite.Name] = [.. list];
                Console.WriteLine($"generations: {Path.Combine(suite.OutDir, "generations.json")}");
            }
            var contamination = ContaminationCheck.For(Checkpoint.Resolve(dir), parse.GetValue(c.Problems)!);
            if (parse.GetValue(generationsOnly)) return Outcome(skipped);
            using var executor = await CreateExecutorAsync(parse, c, suites, ct);
            var summaries = new Dictionary<string, EvalSummary>();
            foreach (var suite in suites)
            {
                // Above each table, where a reader of the scores cannot miss it.
                foreach (var check in contamination.Where(x => x.Status == ContaminationStatus.NotRemoved)) Console.WriteLine(check.Line);
                summaries[suite.Name] = await ScoreAndReportAsync(parse, c, executor, suite, generated[suite.Name], ct);
            }
            foreach (var check in contamination.Where(x => x.Status != ContaminationStatus.NotRemoved)) Console.WriteLine(check.Line);
            WriteMetrics(outDir, suites, summaries, new Dictionary<string, object?>
            {
                ["model"] = Path.GetFullPath(dir), ["task"] = parse.GetValue(c.Task), ["problems"] = parse.GetValue(c.Problems), ["n_samples"] = samples,
                ["temperature"] = parse.GetValue(temperature), ["top_p"] = parse.GetValue(topP), ["max_new_tokens"] = parse.GetValue(maxNew), ["seed"] = parse.GetValue(seed),
                ["contamination"] = contamination.ToDictionary(x => x.Benchmark, x => (object?)x.Status.ToString()),
            });
            return Outcome(skipped);
        });
        return cmd;
    }

    private static int Outcome(List<InvalidDataException> skipped)
    {
        if (skipped.Count == 0) return ExitCodes.Ok;
        Console.Error.WriteLine($"codelm eval: {skipped.Count} problem line(s) could not be read and were skipped (listed above); the rest were scored");
        return ExitCodes.PartialFailure;
    }

    private static void WriteMetrics(string outDir, IReadOnlyList<Suite> suites, Dictionary<string, EvalSummary> summaries, Dictionary<string, object?> config)
    {
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, "metrics.json");
        HarnessFiles.WriteMetrics(path, suites.ToDictionary(s => HarnessFiles.TaskName(s.Name, s.Problems), s => summaries[s.Name]), config);
        Console.WriteLine($"metrics: {path}");
    }

    /// <summary>The problem sets --task, --problems, --from/--to, --language and --limit select, each with its output directory.</summary>
    private static IReadOnlyList<Suite> LoadSuites(ParseResult parse, Common c, string outDir, List<InvalidDataException> skipped)
    {
        var taskName = parse.GetValue(c.Task)!;
        var task = EvalTasks.Parse(taskName) ?? throw new UserFacingException(
            $"--task: '{taskName}' is not a task (use {string.Join(", ", Enum.GetValues<EvalTask>().Select(EvalTasks.Name))})");
        if (task != EvalTask.Translate && (parse.GetValue(c.From) ?? parse.GetValue(c.To)) is not null)
            throw new UserFacingException("--from and --to go with --task translate.");
        return task switch
        {
            EvalTask.Generate => [new Suite("generate", LoadProblems(parse, c, skipped), outDir)],
            EvalTask.Translate => TranslationSuites(parse, c, outDir, skipped),
            _ => [new Suite($"{EvalTasks.Name(task)}", InfillTasks.Derive(LoadProblems(parse, c, skipped), task), outDir)],
        };
    }

    private static IReadOnlyList<Suite> TranslationSuites(ParseResult parse, Common c, string outDir, List<InvalidDataException> skipped)
    {
        var dir = parse.GetValue(c.Problems)!;
        if (!Directory.Exists(dir)) throw new UserFacingException($"--task translate reads a HumanEval-X directory (one <language>.jsonl.gz per language); not a directory: {dir}");
        var byLanguage = ProblemFiles.InDirectory(dir)
            .Select(f => LoadSkipping(f, null, skipped)).Where(ps => ps.Select(p => p.Language).Distinct().Count() == 1).ToDictionary(ps => ps[0].Language);
        IReadOnlyList<string> Languages(Option<string?> option)
        {
            var text = parse.GetValue(option) ?? throw new UserFacingException($"--task translate needs {option.Name} (a language, a comma-separated list, or 'all')");
            if (text.Trim() == "all") return [.. byLanguage.Keys.Order(StringComparer.Ordinal)];
            return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(name =>
                EvalLanguages.Normalize(name) is { } l && byLanguage.ContainsKey(l) ? l
                    : throw new UserFacingException($"{option.Name}: no problems for '{name}' in {dir} (there: {string.Join(", ", byLanguage.Keys.Order(StringComparer.Ordinal))})"))];
        }
        var limit = parse.GetValue(c.Limit);
        var suites = new List<Suite>();
        foreach (var from in Languages(c.From))
            foreach (var to in Languages(c.To).Where(t => t != from))
            {
                var pair = $"{EvalLanguages.Slug(from)}-{EvalLanguages.Slug(to)}";
                var problems = TranslationTasks.Pair(byLanguage[from], byLanguage[to]);
                suites.Add(new Suite($"translate-{pair}", limit > 0 ? [.. problems.Take(limit)] : problems, Path.Combine(outDir, pair)));
            }
        return suites.Count > 0 ? suites : throw new UserFacingException("--from and --to name the same single language: nothing to translate");
    }

    private static IReadOnlyList<Problem> LoadProblems(ParseResult parse, Common c, List<InvalidDataException> skipped)
    {
        var language = parse.GetValue(c.Language);
        var path = parse.GetValue(c.Problems)!;
        // For a HumanEval-X file, --language filters; for plain HumanEval ids it names the language.
        var all = path == ProblemSet.BuiltinName ? ProblemSet.LoadBuiltin() : LoadNaming(path, language, skipped);
        var normalized = language is null ? null : EvalLanguages.Normalize(language)
            ?? throw new OptionException("Language", $"'{language}' is not a language the harness runs (supported: {string.Join(", ", EvalLanguages.All)})");
        var selected = all.Where(p => normalized is null || p.Language == normalized).ToList();
        if (parse.GetValue(c.Limit) is > 0 and var limit) selected = selected.Take(limit).ToList();
        if (selected.Count == 0) throw new UserFacingException($"no problems in {path}{(normalized is null ? "" : " for " + normalized)}");
        return selected;
    }

    private static IReadOnlyList<Problem> LoadNaming(string path, string? language, List<InvalidDataException> skipped)
    {
        try { return LoadSkipping(path, null, skipped); }
        catch (UnknownProblemLanguageException) when (language is not null) { return LoadSkipping(path, language, skipped); }
    }

    // A broken line costs its own problem only: it is named, with the fix, and the rest are scored (exit code 2).
    private static IReadOnlyList<Problem> LoadSkipping(string path, string? language, List<InvalidDataException> skipped)
    {
        var before = skipped.Count;
        var problems = ProblemSet.Load(path, language, skipped);
        foreach (var e in skipped.Skip(before))
            Console.Error.WriteLine($"codelm eval: {e.Message}; that problem is skipped (fix or remove the line to score it)");
        return problems;
    }

    private static IReadOnlyList<int> ParseK(string text)
    {
        var ks = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            ks.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) && k >= 1 ? k
                : throw new UserFacingException($"--k: '{part}' is not a positive integer"));
        return ks.Count > 0 ? ks : throw new UserFacingException("--k needs at least one value");
    }

    private static void ValidateScoring(ParseResult parse, Common c)
    {
        ParseK(parse.GetValue(c.K)!);
        if (parse.GetValue(c.Jobs) < 1) throw new UserFacingException("--jobs must be at least 1");
        if (!(parse.GetValue(c.Timeout) > 0)) throw new UserFacingException("--timeout must be positive");
    }

    private static async Task<CandidateExecutor> CreateExecutorAsync(ParseResult parse, Common c, IReadOnlyList<Suite> suites, CancellationToken ct)
    {
        ValidateScoring(parse, c);
        var timeout = parse.GetValue(c.Timeout);
        var languages = suites.SelectMany(s => s.Problems).Select(p => p.Language).Distinct().ToList();
        var executor = await CandidateExecutor.CreateAsync(languages, new ExecutorOptions(TimeSpan.FromSeconds(timeout)), ct);
        foreach (var note in executor.SandboxNotes) Console.Error.WriteLine($"sandbox: {note}");
        foreach (var (lang, s) in executor.Toolchains.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            Console.Error.WriteLine($"toolchain {lang}: {(s.Available ? "available" : "UNAVAILABLE")} ({s.Detail})");
        return executor;
    }

    private static async Task<EvalSummary> ScoreAndReportAsync(ParseResult parse, Common c, CandidateExecutor executor, Suite suite, List<Sample> samples, CancellationToken ct)
    {
        var ks = ParseK(parse.GetValue(c.K)!);
        var total = samples.Count;
        var summary = await WithProgressAsync("executing", total, report =>
            EvalScorer.ScoreAsync(executor, suite.Problems, samples, new ScoreOptions(suite.OutDir, ks, parse.GetValue(c.Jobs)),
                new Progress<EvalProgress>(p => report(p.DoneSamples, $"{p.DoneSamples}/{p.TotalSamples} samples, {p.PassedSamples} passed" +
                    (p.ResumedProblems > 0 ? $", {p.ResumedProblems} problems resumed" : ""))), ct));

        var table = new Table().Title($"{suite.Name}: pass@k");
        var kCols = ks.Distinct().Order().Select(k => $"pass@{k}").ToList();
        foreach (var col in new[] { "language", "problems", "samples" }.Concat(kCols).Concat(["passed", "failed", "timed out", "compile error", "unavailable"]))
            table.AddColumn(col);
        foreach (var row in summary.Languages)
        {
            string S(string status) => row.Statuses.TryGetValue(status, out var v) ? v.ToString(CultureInfo.InvariantCulture) : "0";
            var cells = new List<string> { row.Language, row.Problems.ToString(CultureInfo.InvariantCulture), row.Samples.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(kCols.Select(k => row.PassAtK.TryGetValue(k, out var v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "-"));
            cells.AddRange([S("passed"), S("failed"), S("timed_out"), S("compile_error"), S("unavailable")]);
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 160;
        AnsiConsole.Write(table);
        foreach (var row in summary.Languages.Where(r => r.Note is not null)) Console.WriteLine($"{row.Language}: {row.Note}");
        Console.WriteLine($"sandbox: {executor.Sandbox.Mode}{(executor.Sandbox.DropsPrivileges ? ", per-slot uids" : "")}; toolchains: " +
            string.Join("; ", summary.Toolchains.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        Console.WriteLine($"results: {Path.Combine(suite.OutDir, "results.jsonl")}");
        Console.WriteLine($"summary: {Path.Combine(suite.OutDir, "summary.json")}");
        if (File.Exists(Path.Combine(suite.OutDir, PassAtKPng.FileName))) Console.WriteLine($"plot: {Path.Combine(suite.OutDir, PassAtKPng.FileName)}");
        return summary;
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
