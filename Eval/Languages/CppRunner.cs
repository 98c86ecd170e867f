using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>
/// C++ (g++): the test's <c>main</c> is renamed by a macro and called from a harness <c>main</c> that prints the sentinel
/// after it returns. Compiled at -O0: the renamed function has no return statement, which is undefined behaviour that
/// g++ turns into a crash from -O1 up, and harmless at -O0 (and -O0 compiles fastest).
/// </summary>
public sealed class CppRunner : LanguageRunner
{
    public override string Language => EvalLanguages.Cpp;
    public override IReadOnlyList<string> Tools => ["g++"];
    public override string InstallHint => "apt-get install g++ libboost-dev libssl-dev";

    public override Problem HelloWorld { get; } = new("C++/hello", EvalLanguages.Cpp,
        "#include <string>\nstd::string hello() {\n", "    return \"hello\";\n}\n",
        "#undef NDEBUG\n#include <cassert>\nint main() {\n    assert(hello() == \"hello\");\n}\n", "hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        problem.Prompt + completion + "\n\n#define main codelm_test_main\n" + problem.Test +
        "\n#undef main\n#include <cstdio>\nint main() {\n    codelm_test_main();\n" +
        $"    std::fputs(\"\\n{sentinel}\\n\", stdout);\n    std::fflush(stdout);\n    return 0;\n}}\n";

    public override PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(workDir, "program.cpp"), program);
        var gxx = tools["g++"];
        var path = new Dictionary<string, string> { ["PATH"] = ToolDirPath(gxx) };
        // HumanEval-X's C++ harness links OpenSSL for the MD5 problem; linking it for every program would make plain
        // programs depend on libssl-dev.
        string[] libs = UsesOpenSsl(program) ? ["-lcrypto"] : [];
        return new PreparedRun([
            new SandboxStep([gxx, "-std=c++17", "-O0", "-w", "-o", "program", "program.cpp", .. libs], path,
                new StepLimits(2048 * StepLimits.MiB, 60, 32), IsCompile: true),
            new SandboxStep(["./program"], NoEnv, new StepLimits(1024 * StepLimits.MiB, CpuSeconds(timeout), 32)),
        ]);
    }

    public override string? MissingLibrary(string program)
    {
        if (program.Contains("<boost/", StringComparison.Ordinal) && !Directory.Exists("/usr/include/boost"))
            return "the Boost headers are not installed (fix: apt-get install libboost-dev)";
        if (UsesOpenSsl(program) && !File.Exists("/usr/include/openssl/md5.h"))
            return "OpenSSL's headers are not installed (fix: apt-get install libssl-dev)";
        return null;
    }

    private static bool UsesOpenSsl(string program) => program.Contains("<openssl/", StringComparison.Ordinal);
}
