namespace CodeLm.Eval.Execution;

/// <summary>
/// One command run inside a sandbox: the argv (tools by absolute path, files relative to the work directory), the only
/// environment variables it sees, and its own resource limits. Compile steps that fail end the run as a compile error.
/// </summary>
public sealed record SandboxStep(
    IReadOnlyList<string> Argv,
    IReadOnlyDictionary<string, string> Environment,
    StepLimits Limits,
    bool IsCompile = false);

/// <summary>Per-process limits: address space (RLIMIT_AS), CPU seconds (RLIMIT_CPU) and processes/threads of the sandbox user (RLIMIT_NPROC).</summary>
public sealed record StepLimits(long AddressSpaceBytes, int CpuSeconds, int MaxProcesses)
{
    public const long MiB = 1024 * 1024;
}

/// <summary>What came back from a sandboxed run. Output is capped: the head and the tail of each stream are kept.</summary>
public sealed record SandboxResult(
    int ExitCode,
    bool TimedOut,
    bool CompileFailed,
    bool OutputLimitExceeded,
    bool SetupFailed,
    string Stdout,
    string StdoutTail,
    string Stderr,
    TimeSpan Elapsed);
