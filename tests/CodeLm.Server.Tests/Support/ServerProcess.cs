using System.Diagnostics;
using CodeLm.Tests;

namespace CodeLm.Server.Tests.Support;

/// <summary>A spawned `codelm serve` child with its real stdin/stdout as the protocol pipes; stderr is collected.</summary>
public sealed class ServerProcess : ChildServer
{
    public ServerProcess(string checkpoint, params string[] extraArgs) : this(new[] { "--checkpoint", checkpoint }.Concat(extraArgs)) { }

    /// <summary>`codelm serve` with exactly <paramref name="args"/> (e.g. --backend URL --model NAME, no checkpoint).</summary>
    public ServerProcess(IEnumerable<string> args) : base(Start(args))
    {
        Process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        Process.BeginErrorReadLine();
    }

    private static ProcessStartInfo Start(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { CodeLmCli.DllPath, "serve" }.Concat(args)) psi.ArgumentList.Add(a);
        return psi;
    }

    public Stream ToServer => Process.StandardInput.BaseStream;
    public Stream FromServer => Process.StandardOutput.BaseStream;
    public bool HasExited => Process.HasExited;

    /// <summary>Resident memory of the server process in MiB (from /proc).</summary>
    public double RssMiB()
    {
        foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        throw new InvalidOperationException("no VmRSS");
    }
}
