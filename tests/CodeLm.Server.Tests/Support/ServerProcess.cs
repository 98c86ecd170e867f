using System.Diagnostics;
using System.Text;
using CodeLm.Tests;

namespace CodeLm.Server.Tests.Support;

/// <summary>A spawned `codelm serve` child with its real stdin/stdout as the protocol pipes; stderr is collected.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stderr = new();

    public ServerProcess(string checkpoint, params string[] extraArgs) : this(new[] { "--checkpoint", checkpoint }.Concat(extraArgs)) { }

    /// <summary>`codelm serve` with exactly <paramref name="args"/> (e.g. --backend URL --model NAME, no checkpoint).</summary>
    public ServerProcess(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { CodeLmCli.DllPath, "serve" }.Concat(args)) psi.ArgumentList.Add(a);
        process = Process.Start(psi)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
    }

    public Stream ToServer => process.StandardInput.BaseStream;
    public Stream FromServer => process.StandardOutput.BaseStream;
    public int Pid => process.Id;
    public bool HasExited => process.HasExited;

    public string Stderr { get { lock (stderr) return stderr.ToString(); } }

    /// <summary>Resident memory of the server process in MiB (from /proc).</summary>
    public double RssMiB()
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        throw new InvalidOperationException("no VmRSS");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        process.WaitForExit(); // flushes the stderr reader
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
