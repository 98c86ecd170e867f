using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>Files written and steps to run for one candidate; or a compile error found before running anything (C#).</summary>
public sealed record PreparedRun(IReadOnlyList<SandboxStep> Steps, string? CompileError = null);

/// <summary>
/// The executables a runner found, by tool name, and a directory its <see cref="LanguageRunner.SetUpAsync"/> filled once
/// per executor with what every candidate reuses (a warm Go build cache, prebuilt Rust crates).
/// </summary>
public sealed record RunnerTools(IReadOnlyDictionary<string, string> Paths, string SharedDir)
{
    public string this[string tool] => Paths[tool];
}

/// <summary>
/// How one language turns prompt + completion + test into a program that prints a sentinel only after the tests ran to
/// the end, and how to compile and run it. Implementations stay small: the sandbox does the isolation.
/// </summary>
public abstract class LanguageRunner
{
    public abstract string Language { get; }

    /// <summary>The executables this language needs, by name (looked up with <see cref="Toolchain.Find"/>).</summary>
    public abstract IReadOnlyList<string> Tools { get; }

    /// <summary>A trivial problem whose canonical solution passes: the availability probe and the overhead benchmark.</summary>
    public abstract Problem HelloWorld { get; }

    /// <summary>The whole program; it must write <paramref name="sentinel"/> on stdout after the last test, and only then.</summary>
    public abstract string BuildProgram(Problem problem, string completion, string sentinel);

    /// <summary>Writes the program (and anything else) into <paramref name="workDir"/> and returns the steps to run there.</summary>
    public abstract PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct);

    /// <summary>The arguments that make the first of <see cref="Tools"/> print its version, for the report.</summary>
    public virtual IReadOnlyList<string> VersionArgs => ["--version"];

    /// <summary>The command that installs what this language needs on Debian, for "unavailable" messages.</summary>
    public abstract string InstallHint { get; }

    /// <summary>
    /// Runs once per executor, outside the sandbox and before the hello-world probe, on trusted inputs only: builds
    /// into <see cref="RunnerTools.SharedDir"/> what each candidate would otherwise rebuild. Returns why the language
    /// cannot run here, or null.
    /// </summary>
    public virtual Task<string?> SetUpAsync(RunnerTools tools, CancellationToken ct) => Task.FromResult<string?>(null);

    /// <summary>
    /// What a library this program uses lacks here, with its install command; null when nothing is missing. Such a
    /// candidate is reported unavailable rather than failed: the machine, not the model, is at fault.
    /// </summary>
    public virtual string? MissingLibrary(string program) => null;

    /// <summary>Whether a finished run passed: exit code 0 and the sentinel on stdout.</summary>
    public virtual bool Passed(SandboxResult result, string sentinel) =>
        result.ExitCode == 0 && (result.StdoutTail.Contains(sentinel, StringComparison.Ordinal) || result.Stdout.Contains(sentinel, StringComparison.Ordinal));

    /// <summary>Wall-clock budget for compile steps (the run clock starts after them).</summary>
    public virtual TimeSpan CompileTimeout => TimeSpan.FromSeconds(30);

    protected static int CpuSeconds(TimeSpan timeout) => (int)Math.Ceiling(timeout.TotalSeconds) + 1;

    protected static readonly IReadOnlyDictionary<string, string> NoEnv = new Dictionary<string, string>();

    protected static string ToolDirPath(string tool) => Path.GetDirectoryName(tool) + ":/usr/local/bin:/usr/bin:/bin";

    /// <summary>All runners the harness knows, by language display name.</summary>
    public static IReadOnlyDictionary<string, LanguageRunner> All { get; } = new LanguageRunner[]
    {
        new PythonRunner(), new CSharpRunner(), new JavaScriptRunner(), new CppRunner(), new JavaRunner(), new GoRunner(), new RustRunner(),
    }.ToDictionary(r => r.Language);
}
