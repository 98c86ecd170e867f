using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>
/// Node.js: prompt + completion + test (which calls its own test function), then the sentinel. Packages installed
/// globally with npm (HumanEval-X's MD5 problem requires js-md5) resolve through NODE_PATH.
/// </summary>
public sealed class JavaScriptRunner : LanguageRunner
{
    public override string Language => EvalLanguages.JavaScript;
    public override IReadOnlyList<string> Tools => ["node"];
    public override string InstallHint => "apt-get install nodejs, and npm install -g js-md5";

    public override Problem HelloWorld { get; } = new("JavaScript/hello", EvalLanguages.JavaScript,
        "const hello = () => {\n", "  return 'hello';\n};\n",
        "const assert = require('node:assert');\nassert.strictEqual(hello(), 'hello');\n", "hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        problem.Prompt + completion + "\n\n" + problem.Test + $"\n;process.stdout.write('\\n{sentinel}\\n');\n";

    public override PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(workDir, "program.js"), program);
        var node = tools["node"];
        var env = new Dictionary<string, string> { ["PATH"] = ToolDirPath(node), ["NODE_PATH"] = string.Join(':', GlobalModuleDirs(node)) };
        return new PreparedRun([
            new SandboxStep([node, "--max-old-space-size=512", "program.js"], env,
                new StepLimits(2048 * StepLimits.MiB, CpuSeconds(timeout), 64)),
        ]);
    }

    public override string? MissingLibrary(string program)
    {
        foreach (var package in new[] { "js-md5" })
        {
            var required = program.Contains($"require('{package}')", StringComparison.Ordinal) || program.Contains($"require(\"{package}\")", StringComparison.Ordinal);
            if (required && !GlobalModuleDirs(Toolchain.Find("node") ?? "/usr/bin/node").Any(d => Directory.Exists(Path.Combine(d, package))))
                return $"the npm package {package} is not installed globally (fix: npm install -g {package})";
        }
        return null;
    }

    /// <summary>Where npm puts global packages: beside the node binary's prefix, and Debian's and npm's default prefixes.</summary>
    private static IEnumerable<string> GlobalModuleDirs(string node) =>
        new[] { Path.GetFullPath(Path.Combine(Path.GetDirectoryName(node)!, "..", "lib", "node_modules")), "/usr/local/lib/node_modules", "/usr/lib/node_modules" }
            .Distinct().Where(Directory.Exists);
}
