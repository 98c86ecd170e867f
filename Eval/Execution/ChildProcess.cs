using System.Diagnostics;
using System.Text;

namespace CodeLm.Eval.Execution;

/// <summary>
/// Runs a trusted tool outside the sandbox (a runner's one-time set-up: warming a build cache, building crates) with
/// exactly the given environment, and returns its exit code and merged output.
/// </summary>
public static class ChildProcess
{
    public static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyList<string> argv, string workDir,
        IReadOnlyDictionary<string, string> env, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(argv[0]) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {argv[0]}");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(ct).WaitAsync(timeout, ct);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (e is OperationCanceledException) throw;
            return (-1, $"{Path.GetFileName(argv[0])} did not finish in {timeout.TotalSeconds:0} s");
        }
        await process.WaitForExitAsync(CancellationToken.None);
        lock (output) return (process.ExitCode, output.ToString());
    }
}
