using System.Diagnostics;
using System.Text;

namespace CodeLm.Server.Tests.Support;

/// <summary>A spawned `codelm serve` child and the stderr it wrote; killed, with its own children, when disposed.</summary>
public abstract class ChildServer : IDisposable
{
    protected readonly StringBuilder stderr = new();

    protected ChildServer(ProcessStartInfo start) => Process = Process.Start(start)!;

    protected Process Process { get; }

    public int Pid => Process.Id;

    public string Stderr { get { lock (stderr) return stderr.ToString(); } }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await Process.WaitForExitAsync(cts.Token);
        Process.WaitForExit(); // flushes the stderr reader
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
        GC.SuppressFinalize(this);
    }
}
