using System.Text.RegularExpressions;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>
/// Java (javac + java): the test's class with <c>main</c> (HumanEval-X: <c>public class Main</c>) is called from a harness
/// class that prints the sentinel after it returns; assertions are enabled (-ea).
/// </summary>
public sealed partial class JavaRunner : LanguageRunner
{
    private const string Runner = "CodeLmRunner";
    private static readonly string[] JvmFlags =
        ["-Xmx256m", "-Xss8m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=64m", "-XX:-UsePerfData"];

    public override string Language => EvalLanguages.Java;
    public override IReadOnlyList<string> Tools => ["javac", "java"];
    public override IReadOnlyList<string> VersionArgs => ["-version"];
    public override string InstallHint => "apt-get install default-jdk-headless";

    public override Problem HelloWorld { get; } = new("Java/hello", EvalLanguages.Java,
        "class Solution {\n    public String hello() {\n", "        return \"hello\";\n    }\n}\n",
        "public class Main {\n    public static void main(String[] args) {\n        if (!new Solution().hello().equals(\"hello\")) throw new AssertionError();\n    }\n}\n", "hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        problem.Prompt + completion + "\n\n" + problem.Test + "\n\n" +
        $"class {Runner} {{\n    public static void main(String[] args) throws Throwable {{\n        {MainClass(problem.Test)}.main(args);\n" +
        $"        System.out.print(\"\\n{sentinel}\\n\");\n        System.out.flush();\n    }}\n}}\n";

    /// <summary>The class whose <c>static void main</c> drives the test (the last class declared before it), or "Main".</summary>
    private static string MainClass(string test)
    {
        var main = MainMethod().Match(test);
        if (!main.Success) return "Main";
        var classes = ClassDecl().Matches(test[..main.Index]);
        return classes.Count == 0 ? "Main" : classes[^1].Groups[1].Value;
    }

    /// <summary>The file must be named after the program's public class, if it has one.</summary>
    private static string FileName(string program) => (PublicClass().Match(program) is { Success: true } m ? m.Groups[1].Value : "Program") + ".java";

    public override PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct)
    {
        var file = FileName(program);
        File.WriteAllText(Path.Combine(workDir, file), program);
        var (javac, java) = (tools["javac"], tools["java"]);
        var env = new Dictionary<string, string> { ["PATH"] = ToolDirPath(java) };
        return new PreparedRun([
            new SandboxStep([javac, .. JvmFlags.Select(f => "-J" + f), "-nowarn", "-encoding", "UTF-8", "-d", ".", file], env,
                new StepLimits(3072 * StepLimits.MiB, 60, 128), IsCompile: true),
            new SandboxStep([java, .. JvmFlags, "-ea", "-Xshare:auto", "-cp", ".", Runner], env,
                new StepLimits(3072 * StepLimits.MiB, CpuSeconds(timeout), 128)),
        ]);
    }

    [GeneratedRegex(@"static\s+void\s+main\s*\(")]
    private static partial Regex MainMethod();

    [GeneratedRegex(@"\bclass\s+(\w+)")]
    private static partial Regex ClassDecl();

    [GeneratedRegex(@"^\s*public\s+(?:final\s+|abstract\s+)*class\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex PublicClass();
}
