using System.Diagnostics;

namespace CodeLm.Bench.Finetune;

/// <summary>
/// Runs the real `codelm` binary, as a user would: the evidence is about the command people type, not about an
/// in-process shortcut that could train differently. Its combined output goes to a log file (the train log's
/// "training X of Y parameters" line is read back from there) and the wall time is measured around the process.
/// </summary>
public sealed class CodelmCli(string executable)
{
    public string Executable { get; } = executable;

    /// <summary>Runs `codelm args...`, appends stdout+stderr to <paramref name="log"/>, throws on a non-zero exit.</summary>
    public (TimeSpan Wall, string Stdout) Run(string log, params string[] args)
    {
        var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        File.AppendAllText(log, $"$ codelm {string.Join(' ', args.Select(Quote))}\n");
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Executable}");
        var stdout = new System.Text.StringBuilder();
        // Both pipes drain concurrently: a full stderr pipe would otherwise stall a long training run.
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stdout) File.AppendAllText(log, e.Data + "\n"); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.WaitForExit();
        sw.Stop();
        File.AppendAllText(log, stdout.ToString());
        if (p.ExitCode != 0) throw new InvalidOperationException($"codelm {args.FirstOrDefault()} exited with {p.ExitCode}; see {log}");
        return (sw.Elapsed, stdout.ToString());
    }

    private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:@,".Contains(c)) ? a : $"'{a.Replace("'", "'\\''")}'";

    /// <summary>The codelm next to this checkout's Release build, unless --codelm names one (a copy, so a rebuild cannot break a long run).</summary>
    public static string Find(string repoRoot, string? given) =>
        given ?? Path.Combine(repoRoot, "Cli", "bin", "Release", "net10.0", "codelm");
}
