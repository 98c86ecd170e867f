using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>`codelm doctor` in a child process: which libtorch it runs on, the CODELM_LIBTORCH_DIR override, and its errors.</summary>
public class DoctorTests
{
    private static readonly string PackagedNative = Path.Combine(Path.GetDirectoryName(CodeLmCli.DllPath)!, "runtimes", "linux-x64", "native");

    [Fact]
    public void Reports_the_packaged_libtorch_and_a_learning_smoke_run()
    {
        var r = CodeLmCli.Run("doctor", "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains($"libtorch:      {PackagedNative}", r.Stdout);
        Assert.Matches(@"mapped:\s+\S+/libtorch_cpu\.so", r.Stdout);
        Assert.Matches(@"torch:\s+2\.10", r.Stdout);
        Assert.Matches(@"smoke run:\s+cpu, loss \S+ -> \S+ in \d+ ms: ok", r.Stdout);
    }

    [Fact]
    public void Starts_with_malloc_tuned_so_large_tensors_are_not_faulted_in_again_and_CODELM_MALLOC_system_opts_out()
    {
        const long pagesPerCycle = (32L << 20) * 4 / 4096; // the 128 MiB tensor doctor reallocates four times
        var tuned = CodeLmCli.Run("doctor", "--device", "cpu");
        Assert.True(tuned.ExitCode == 0, tuned.Stdout + tuned.Stderr);
        Assert.Contains("allocator:     glibc malloc tuned at start-up", tuned.Stdout);
        var untuned = CodeLmCli.Run(["doctor", "--device", "cpu"], cwd: null, env: new Dictionary<string, string> { ["CODELM_MALLOC"] = "system" });
        Assert.True(untuned.ExitCode == 0, untuned.Stdout + untuned.Stderr);
        Assert.Contains("allocator:     glibc malloc left as configured", untuned.Stdout);

        Assert.True(Faults(untuned.Stdout) > 3 * pagesPerCycle, untuned.Stdout); // glibc as it comes maps every buffer anew
        Assert.True(Faults(tuned.Stdout) < pagesPerCycle / 2, tuned.Stdout);
    }

    private static long Faults(string doctorOutput) =>
        long.Parse(System.Text.RegularExpressions.Regex.Match(doctorOutput, @"worker thread: (\d+) page faults").Groups[1].Value);

    [Fact]
    public void Runs_on_the_libtorch_that_CODELM_LIBTORCH_DIR_names()
    {
        // Another folder holding the same libtorch, hard-linked beside the build output (same file system, no 500 MB copy).
        var other = Path.Combine(Path.GetDirectoryName(CodeLmCli.DllPath)!, "doctor-test-libtorch-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(other);
        try
        {
            foreach (var file in Directory.GetFiles(PackagedNative, "*.so*").Where(f => !f.EndsWith("libLibTorchSharp.so", StringComparison.Ordinal)))
            {
                var link = Proc.Run("ln", [file, Path.Combine(other, Path.GetFileName(file))]);
                Assert.True(link.ExitCode == 0, link.Stderr);
            }
            var r = CodeLmCli.Run(["doctor", "--device", "cpu"], cwd: null, env: new Dictionary<string, string> { ["CODELM_LIBTORCH_DIR"] = other });
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            Assert.Contains($"libtorch:      {other} (from CODELM_LIBTORCH_DIR)", r.Stdout);
            Assert.Contains($"mapped:        {other}/libtorch_cpu.so", r.Stdout); // the process really runs on that copy
            Assert.Contains(": ok", r.Stdout);
        }
        finally { Directory.Delete(other, recursive: true); }
    }

    [Fact]
    public void A_wrong_libtorch_dir_fails_with_a_message_that_says_what_to_do()
    {
        var missing = CodeLmCli.Run(["doctor"], cwd: null, env: new Dictionary<string, string> { ["CODELM_LIBTORCH_DIR"] = "/nonexistent/torch/lib" });
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("has no libtorch_cpu.so", missing.Stderr);

        // Debian's PyTorch 1.13 (installed by scripts/test-all.sh): another version, whose libraries carry versioned
        // sonames, so the glue cannot bind to them. The error names the override and the probe script.
        const string debianTorch = "/usr/lib/python3/dist-packages/torch/lib";
        Assert.True(File.Exists(Path.Combine(debianTorch, "libtorch_cpu.so")), "python3-torch is not installed (scripts/test-all.sh installs it)");
        var skewed = CodeLmCli.Run(["doctor"], cwd: null, env: new Dictionary<string, string> { ["CODELM_LIBTORCH_DIR"] = debianTorch });
        Assert.Equal(1, skewed.ExitCode);
        Assert.Contains("could not be loaded", skewed.Stderr);
        Assert.Contains("scripts/gpu-probe.sh", skewed.Stderr);
    }
}
