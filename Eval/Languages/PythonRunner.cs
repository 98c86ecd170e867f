using System.Text.RegularExpressions;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>Python 3: HumanEval's program (prompt + completion + test + <c>check(entry_point)</c>), then the sentinel.</summary>
public sealed partial class PythonRunner : LanguageRunner
{
    public override string Language => EvalLanguages.Python;
    public override IReadOnlyList<string> Tools => ["python3"];
    public override string InstallHint => "apt-get install python3";

    public override Problem HelloWorld { get; } = new("Python/hello", EvalLanguages.Python,
        "def hello() -> str:\n", "    return 'hello'\n", "def check(candidate):\n    assert candidate() == 'hello'\n", "hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel)
    {
        var check = problem.EntryPoint.Length > 0 && !CallsCheck(problem.Test, problem.EntryPoint) ? $"check({problem.EntryPoint})\n" : "";
        return problem.Prompt + completion + "\n\n" + problem.Test + "\n\n" + check +
               $"\nimport sys as __codelm_sys\n__codelm_sys.stdout.write('\\n{sentinel}\\n')\n__codelm_sys.stdout.flush()\n";
    }

    // HumanEval-X Python tests end with their own check(...) call; plain HumanEval tests do not.
    private static bool CallsCheck(string test, string entryPoint) =>
        Regex.IsMatch(test, @"^check\(\s*" + Regex.Escape(entryPoint) + @"\s*\)", RegexOptions.Multiline);

    public override PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(workDir, "program.py"), program);
        var python = tools["python3"];
        return new PreparedRun([
            new SandboxStep([python, "-I", "-B", "program.py"], new Dictionary<string, string> { ["PATH"] = ToolDirPath(python) },
                new StepLimits(1024 * StepLimits.MiB, CpuSeconds(timeout), 32)),
        ]);
    }
}
