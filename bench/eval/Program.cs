// Eval benchmark. Every figure is a ratio against an anchor measured in the same run, repeated; median and spread.
//   dotnet run -c Release --project bench/eval -- [--repeats 5] [--humaneval-repeats 3] [--jobs 2] [--humaneval PATH]
//     [--humaneval-x DIR] [--hx-repeats 1] [--only humaneval|humaneval-x]
using System.Diagnostics;
using System.Globalization;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Languages;
using CodeLm.Eval.Problems;
using CodeLm.Eval.Scoring;

var repeats = Arg("--repeats", 7);
var heRepeats = Arg("--humaneval-repeats", 3);
var jobs = Arg("--jobs", 2);
var humanEval = ArgS("--humaneval", Path.Combine(FindRepoRoot(), "..", "shared", "benchmarks", "humaneval", "HumanEval.jsonl.gz"));
var humanEvalX = ArgS("--humaneval-x", Path.Combine(FindRepoRoot(), "..", "shared", "benchmarks", "humaneval-x"));
var hxRepeats = Arg("--hx-repeats", 1);
var only = ArgS("--only", "");

using var executor = await CandidateExecutor.CreateAsync(EvalLanguages.All, new ExecutorOptions(TimeSpan.FromSeconds(10)));
Console.WriteLine($"# eval benchmark  {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, jobs={jobs}, repeats={repeats}");
foreach (var n in executor.SandboxNotes) Console.WriteLine($"# sandbox: {n}");
foreach (var (l, s) in executor.Toolchains) Console.WriteLine($"# {l}: {(s.Available ? "available" : "unavailable")} ({s.Detail})");

// Anchor 1: a bare process (fork+exec of /bin/true), and the same through the sandbox (namespaces, tmpfs, uid drop, rlimits).
var bare = Measure(repeats * 3, () => { using var p = Process.Start("/bin/true")!; p.WaitForExit(); });
var emptyDir = Directory.CreateTempSubdirectory("codelm-bench-").FullName;
var trueStep = new SandboxStep(["/bin/true"], new Dictionary<string, string>(), new StepLimits(256 * StepLimits.MiB, 5, 16));
var sandboxed = Measure(repeats * 3, () => executor.Sandbox.RunAsync(emptyDir, [trueStep], TimeSpan.FromSeconds(10), TimeSpan.Zero, 0, default).GetAwaiter().GetResult());
Directory.Delete(emptyDir, true);
Console.WriteLine();
Console.WriteLine("| what | median ms | spread (min–max) ms | ratio to bare process |");
Console.WriteLine("|---|---:|---:|---:|");
Row("bare process (/bin/true)", bare, bare.Median);
Row("sandboxed /bin/true", sandboxed, bare.Median);

// Per language: the hello-world candidate (program build, compile if any, run, verdict) through the executor.
var hello = new Dictionary<string, Stats>();
foreach (var lang in EvalLanguages.All.Where(executor.IsAvailable))
{
    var p = LanguageRunner.All[lang].HelloWorld;
    hello[lang] = Measure(repeats, () =>
    {
        var r = executor.ExecuteAsync(p, p.CanonicalSolution, 0).GetAwaiter().GetResult();
        if (r.Status != ExecutionStatus.Passed) throw new InvalidOperationException($"{lang} hello-world: {r.Status} {r.Detail}");
    });
    Row($"{lang} hello-world candidate", hello[lang], bare.Median);
}
foreach (var lang in EvalLanguages.All.Where(l => !executor.IsAvailable(l))) Console.WriteLine($"| {lang} hello-world candidate | unavailable | | |");

if (only != "humaneval-x") HumanEval();
if (only != "humaneval") HumanEvalX();
return 0;

// HumanEval: the 164 canonical solutions, scored from scratch each time, against the Python hello-world anchor.
void HumanEval()
{
    var problems = ProblemSet.Load(humanEval);
    var samples = problems.Select(p => new Sample(p.TaskId, p.CanonicalSolution)).ToList();
    var passed = 0;
    var he = Measure(heRepeats, () =>
    {
        var outDir = Directory.CreateTempSubdirectory("codelm-bench-he-").FullName;
        try
        {
            var s = EvalScorer.ScoreAsync(executor, problems, samples, new ScoreOptions(outDir, [1], jobs)).GetAwaiter().GetResult();
            passed = s.Languages[0].Statuses.GetValueOrDefault("passed");
        }
        finally { Directory.Delete(outDir, true); }
    });
    var ideal = hello[EvalLanguages.Python].Median * problems.Count / jobs;
    Console.WriteLine();
    Console.WriteLine("| what | median s | spread (min–max) s | ratio to 164 × Python hello-world / jobs |");
    Console.WriteLine("|---|---:|---:|---:|");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| HumanEval 164 canonical, jobs={jobs} ({passed}/164 passed) | {he.Median / 1000:0.00} | {he.Min / 1000:0.00}–{he.Max / 1000:0.00} | {he.Median / ideal:0.00} |"));
}

// HumanEval-X: per language, its 164 canonical solutions against 164 runs of that language's hello-world, both
// scored from scratch through the same executor with the same jobs, alternating, so the ratio is what the problems
// cost beyond the toolchain's own start-up and compile.
void HumanEvalX()
{
    Console.WriteLine();
    Console.WriteLine($"| language | 164 canonical, median s | spread s | 164 hello-world, median s | spread s | ratio | passed |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
    foreach (var file in new[] { "python", "cpp", "java", "js", "go", "rust" })
    {
        var problems = ProblemSet.Load(Path.Combine(humanEvalX, file + ".jsonl.gz"));
        var lang = problems[0].Language;
        if (!executor.IsAvailable(lang)) { Console.WriteLine($"| {lang} | unavailable | | | | | |"); continue; }
        var hello = LanguageRunner.All[lang].HelloWorld;
        var hellos = Enumerable.Range(0, problems.Count).Select(i => hello with { TaskId = $"{lang}/hello-{i}" }).ToList();
        var passed = 0;
        double Score(IReadOnlyList<Problem> set)
        {
            var outDir = Directory.CreateTempSubdirectory("codelm-bench-hx-").FullName;
            var sw = Stopwatch.StartNew();
            try
            {
                var s = EvalScorer.ScoreAsync(executor, set, set.Select(p => new Sample(p.TaskId, p.CanonicalSolution)).ToList(),
                    new ScoreOptions(outDir, [1], jobs) { Timeout = TimeSpan.FromSeconds(20) }).GetAwaiter().GetResult();
                if (set == problems) passed = s.Languages[0].Statuses.GetValueOrDefault("passed");
                return sw.Elapsed.TotalSeconds;
            }
            finally { Directory.Delete(outDir, true); }
        }
        var (canonical, hellosS) = (new List<double>(), new List<double>());
        for (var i = 0; i < hxRepeats; i++) { canonical.Add(Score(problems)); hellosS.Add(Score(hellos)); }
        canonical.Sort();
        hellosS.Sort();
        var (c, h) = (canonical[canonical.Count / 2], hellosS[hellosS.Count / 2]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {lang} | {c:0.0} | {canonical[0]:0.0}–{canonical[^1]:0.0} | {h:0.0} | {hellosS[0]:0.0}–{hellosS[^1]:0.0} | {c / h:0.00}× | {passed}/{problems.Count} |"));
    }
}

static void Row(string what, Stats s, double anchor) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"| {what} | {s.Median:0.0} | {s.Min:0.0}–{s.Max:0.0} | {s.Median / anchor:0.0}× |"));

static Stats Measure(int n, Action action)
{
    action(); // warm-up
    var ms = new List<double>();
    for (var i = 0; i < n; i++)
    {
        var sw = Stopwatch.StartNew();
        action();
        ms.Add(sw.Elapsed.TotalMilliseconds);
    }
    ms.Sort();
    return new Stats(ms[ms.Count / 2], ms[0], ms[^1]);
}

int Arg(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
string ArgS(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CodeLm.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

internal sealed record Stats(double Median, double Min, double Max);
