namespace CodeLm.Eval.Execution;

public enum ExecutionStatus { Passed, Failed, TimedOut, CompileError, Unavailable }

/// <summary>The verdict on one candidate, with an excerpt of its stderr (or why it failed).</summary>
public sealed record ExecutionResult(ExecutionStatus Status, int? ExitCode, long DurationMs, string Detail)
{
    public static string StatusName(ExecutionStatus s) => s switch
    {
        ExecutionStatus.Passed => "passed", ExecutionStatus.Failed => "failed", ExecutionStatus.TimedOut => "timed_out",
        ExecutionStatus.CompileError => "compile_error", ExecutionStatus.Unavailable => "unavailable",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };
}
