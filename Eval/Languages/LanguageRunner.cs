using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>Files written and steps to run for one candidate; or a compile error found before running anything (C#).</summary>
public sealed record PreparedRun(IReadOnlyList<SandboxStep> Steps, string? CompileError = null);

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
    public abstract PreparedRun Prepare(string workDir, string program, IReadOnlyDictionary<string, string> tools, TimeSpan timeout, CancellationToken ct);

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
        new PythonRunner(), new CSharpRunner(), new JavaScriptRunner(), new CppRunner(), new JavaRunner(), new GoRunner(),
    }.ToDictionary(r => r.Language);
}
