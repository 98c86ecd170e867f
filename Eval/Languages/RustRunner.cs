using System.Text.RegularExpressions;
using CodeLm.Eval.Execution;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Languages;

/// <summary>
/// Rust, as HumanEval-X runs it: prompt + completion + the test module, compiled by one offline <c>rustc --test</c>
/// against prebuilt rand, regex and md5 (<see cref="RustCrates"/>), then the test binary. The verdict is libtest's own:
/// exit 0 and its "test result: ok." summary as the last line, as <c>cargo test</c> would report. The binary is linked
/// without std's debug information: with it, it is 18 MB, past the sandbox's file-size limit.
/// </summary>
public sealed partial class RustRunner : LanguageRunner
{
    public override string Language => EvalLanguages.Rust;
    public override IReadOnlyList<string> Tools => ["rustc"];
    public override string InstallHint => RustCrates.InstallHint;
    public override TimeSpan CompileTimeout => TimeSpan.FromSeconds(90);

    public override Problem HelloWorld { get; } = new("Rust/hello", EvalLanguages.Rust,
        "use rand::Rng;\nuse regex::Regex;\n\nfn hello() -> String {\n", "    \"hello\".to_string()\n}\n",
        "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn test_hello() {\n        let n: u32 = rand::thread_rng().gen_range(0, 3);\n" +
        "        assert!(n < 3);\n        assert!(Regex::new(\"^h\").unwrap().is_match(&hello()));\n" +
        "        assert_eq!(format!(\"{:x}\", md5::compute(hello())), \"5d41402abc4b2a76b9719d911017c592\");\n    }\n}\n", "hello");

    public override string BuildProgram(Problem problem, string completion, string sentinel) =>
        problem.Prompt + completion + "\n\n" + problem.Test + "\n";

    public override async Task<string?> SetUpAsync(RunnerTools tools, CancellationToken ct)
    {
        var (dir, error) = await RustCrates.EnsureAsync(tools["rustc"], ct);
        if (dir is null) return error;
        FileTree.Copy(dir, CratesDir(tools.SharedDir));
        return null;
    }

    public override PreparedRun Prepare(string workDir, string program, RunnerTools tools, TimeSpan timeout, CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(workDir, "program.rs"), program);
        var crates = CratesDir(tools.SharedDir);
        FileTree.Copy(crates, Path.Combine(workDir, "crates"));
        var rustc = tools["rustc"];
        string[] externs = [.. new[] { "rand", "regex", "md5" }.SelectMany(c => new[] { "--extern", $"{c}=crates/{RustCrates.Rlib(crates, c)}" })];
        var env = new Dictionary<string, string> { ["PATH"] = ToolDirPath(rustc) };
        return new PreparedRun([
            new SandboxStep([rustc, "--edition", "2021", "--test", "-C", "opt-level=0", "-C", "debuginfo=0", "-C", "strip=debuginfo", "-A", "warnings",
                "-L", "dependency=crates", .. externs, "-o", "program", "program.rs"], env, new StepLimits(4096 * StepLimits.MiB, 120, 128), IsCompile: true),
            new SandboxStep(["./program", "--test-threads=1"], NoEnv, new StepLimits(2048 * StepLimits.MiB, CpuSeconds(timeout), 64)),
        ]);
    }

    public override bool Passed(SandboxResult result, string sentinel) =>
        result.ExitCode == 0 && Summary().IsMatch(result.StdoutTail.TrimEnd());

    private static string CratesDir(string sharedDir) => Path.Combine(sharedDir, "crates");

    [GeneratedRegex(@"(^|\n)test result: ok\. \d+ passed; 0 failed;[^\n]*$")]
    private static partial Regex Summary();
}
