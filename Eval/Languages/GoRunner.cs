using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>
/// Go: prompt + completion + test as a <c>_test.go</c> file in a throwaway module, run with <c>go test -v</c> offline.
/// Since Go 1.16 <c>go test</c> fails a test that calls <c>os.Exit(0)</c>, so the sentinel is go test's own verdict:
/// exit 0, at least one <c>--- PASS</c>, no <c>--- FAIL</c>. Reported "unavailable" when no Go toolchain is installed.
/// </summary>
public sealed class GoRunner : LanguageRunner
{
    public override string Language => EvalLanguages.Go;
    public override IReadOnlyList<string> Tools => ["go"];
    public override TimeSpan CompileTimeout => TimeSpan.FromSeconds(90);

    public override Problem HelloWorld { get; } = new("Go/hello", EvalLanguages.Go,
        "package main\n\nimport \"testing\"\n\nfunc Hello() string {\n", "\treturn \"hello\"\n}\n",
        "func TestHello(t *testing.T) {\n\tif Hello() != \"hello\" {\n\t\tt.Fatal(\"wrong\")\n\t}\n}\n", "Hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        problem.Prompt + completion + "\n\n" + problem.Test + "\n";

    public override PreparedRun Prepare(string workDir, string program, IReadOnlyDictionary<string, string> tools, TimeSpan timeout, CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(workDir, "go.mod"), "module codelm/candidate\n\ngo 1.18\n");
        File.WriteAllText(Path.Combine(workDir, "main_test.go"), program);
        var go = tools["go"];
        var env = new Dictionary<string, string>
        {
            // GOCACHE and GOPATH default under HOME, the candidate's work directory.
            ["PATH"] = ToolDirPath(go),
            ["GOFLAGS"] = "-mod=mod", ["GOPROXY"] = "off", ["GOTOOLCHAIN"] = "local", ["CGO_ENABLED"] = "0", ["GOTELEMETRY"] = "off",
        };
        return new PreparedRun([
            new SandboxStep([go, "test", "-c", "-vet=off", "-o", "candidate.test", "."], env, new StepLimits(4096 * StepLimits.MiB, 120, 256), IsCompile: true),
            new SandboxStep(["./candidate.test", "-test.v", "-test.count=1", "-test.paniconexit0"], NoEnv, new StepLimits(2048 * StepLimits.MiB, CpuSeconds(timeout), 64)),
        ]);
    }

    public override bool Passed(SandboxResult result, string sentinel) =>
        result.ExitCode == 0 && result.Stdout.Contains("--- PASS", StringComparison.Ordinal) &&
        !result.Stdout.Contains("--- FAIL", StringComparison.Ordinal) && result.StdoutTail.TrimEnd().EndsWith("PASS", StringComparison.Ordinal);
}
