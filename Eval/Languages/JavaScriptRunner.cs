using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>Node.js: prompt + completion + test (which calls its own test function), then the sentinel.</summary>
public sealed class JavaScriptRunner : LanguageRunner
{
    public override string Language => EvalLanguages.JavaScript;
    public override IReadOnlyList<string> Tools => ["node"];

    public override Problem HelloWorld { get; } = new("JavaScript/hello", EvalLanguages.JavaScript,
        "const hello = () => {\n", "  return 'hello';\n};\n",
        "const assert = require('node:assert');\nassert.strictEqual(hello(), 'hello');\n", "hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        problem.Prompt + completion + "\n\n" + problem.Test + $"\n;process.stdout.write('\\n{sentinel}\\n');\n";

    public override PreparedRun Prepare(string workDir, string program, IReadOnlyDictionary<string, string> tools, TimeSpan timeout, CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(workDir, "program.js"), program);
        var node = tools["node"];
        return new PreparedRun([
            new SandboxStep([node, "--max-old-space-size=512", "program.js"], new Dictionary<string, string> { ["PATH"] = ToolDirPath(node) },
                new StepLimits(2048 * StepLimits.MiB, CpuSeconds(timeout), 64)),
        ]);
    }
}
