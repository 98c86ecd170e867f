using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>
/// Go, as HumanEval-X runs it: prompt + completion + test as one <c>_test.go</c> file of package main, imports assembled
/// from use (<see cref="GoImports"/>), built in GOPATH mode against Debian's testify, offline. Since Go 1.16
/// <c>go test</c> fails a test that calls <c>os.Exit(0)</c>, so the sentinel is go test's own verdict: exit 0, at least
/// one <c>--- PASS</c>, no <c>--- FAIL</c>.
/// </summary>
public sealed class GoRunner : LanguageRunner
{
    /// <summary>Where Debian's golang-*-dev packages put Go sources, testify among them.</summary>
    public const string DebianGoPath = "/usr/share/gocode";

    public override string Language => EvalLanguages.Go;
    public override IReadOnlyList<string> Tools => ["go"];
    public override IReadOnlyList<string> VersionArgs => ["version"];
    public override string InstallHint => "apt-get install golang-go golang-github-stretchr-testify-dev";
    public override TimeSpan CompileTimeout => TimeSpan.FromSeconds(90);

    public override Problem HelloWorld { get; } = new("Go/hello", EvalLanguages.Go,
        "func Hello() string {\n", "\treturn \"hello\"\n}\n",
        "func TestHello(t *testing.T) {\n\tassert := assert.New(t)\n\tassert.Equal(\"hello\", Hello())\n}\n", "Hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        GoImports.Assemble(problem.Prompt + completion + "\n\n" + problem.Test + "\n");

    /// <summary>
    /// Compiles the hello-world once into a build cache that each candidate starts from: a cold cache costs ~7 s of
    /// compiling testify and the standard library per candidate, a warm one ~0.3 s.
    /// </summary>
    public override async Task<string?> SetUpAsync(RunnerTools tools, CancellationToken ct)
    {
        if (!Directory.Exists(Path.Combine(DebianGoPath, "src/github.com/stretchr/testify")))
            return $"testify is not installed under {DebianGoPath} (fix: {InstallHint})";
        var work = Directory.CreateDirectory(Path.Combine(tools.SharedDir, "warm-up")).FullName;
        File.WriteAllText(Path.Combine(work, "main_test.go"), BuildProgram(HelloWorld, HelloWorld.CanonicalSolution, ""));
        var env = new Dictionary<string, string>(BuildEnv(tools["go"])) { ["HOME"] = work, ["GOCACHE"] = CacheDir(tools.SharedDir) };
        var (exit, output) = await ChildProcess.RunAsync([tools["go"], "test", "-c", "-vet=off", "-o", "warm.test", "."], work, env, TimeSpan.FromMinutes(5), ct);
        Directory.Delete(work, recursive: true);
        return exit == 0 ? null : $"go could not build the warm-up test (exit {exit}): {CandidateExecutor.Excerpt(output, 300)}";
    }

    public override PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(workDir, "main_test.go"), program);
        // GOCACHE defaults to $HOME/.cache/go-build, and HOME is the candidate's work directory.
        FileTree.Copy(CacheDir(tools.SharedDir), Path.Combine(workDir, ".cache", "go-build"));
        var go = tools["go"];
        return new PreparedRun([
            new SandboxStep([go, "test", "-c", "-vet=off", "-o", "candidate.test", "."], BuildEnv(go), new StepLimits(4096 * StepLimits.MiB, 120, 256), IsCompile: true),
            new SandboxStep(["./candidate.test", "-test.v", "-test.count=1", "-test.paniconexit0"], NoEnv, new StepLimits(2048 * StepLimits.MiB, CpuSeconds(timeout), 64)),
        ]);
    }

    public override bool Passed(SandboxResult result, string sentinel) =>
        result.ExitCode == 0 && result.Stdout.Contains("--- PASS", StringComparison.Ordinal) &&
        !result.Stdout.Contains("--- FAIL", StringComparison.Ordinal) && result.StdoutTail.TrimEnd().EndsWith("PASS", StringComparison.Ordinal);

    private static string CacheDir(string sharedDir) => Path.Combine(sharedDir, "go-build");

    // The warm-up and the candidates must build with the same settings, or the cache misses.
    private static Dictionary<string, string> BuildEnv(string go) => new()
    {
        ["PATH"] = ToolDirPath(go), ["GO111MODULE"] = "off", ["GOPATH"] = DebianGoPath, ["GOFLAGS"] = "", ["GOPROXY"] = "off",
        ["GOTOOLCHAIN"] = "local", ["CGO_ENABLED"] = "0", ["GOTELEMETRY"] = "off",
    };
}
