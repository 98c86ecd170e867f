namespace CodeLm.Eval.Execution;

/// <summary>
/// Finds the strongest sandbox this machine allows by actually starting one: namespaces (network, mount, PID) with a
/// private tmpfs, and an unprivileged uid when running as root. Returns the sandbox and human-readable notes on what
/// is and is not isolated, for the report.
/// </summary>
public static class SandboxProbe
{
    public sealed record Result(Sandbox Sandbox, IReadOnlyList<string> Notes);

    public static async Task<Result> DetectAsync(SandboxOptions? options = null, CancellationToken ct = default)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("the evaluation sandbox needs Linux");
        foreach (var tool in new[] { "/usr/bin/setsid", "/usr/bin/prlimit", "/usr/bin/env", "/bin/sh" })
            if (!File.Exists(tool)) throw new InvalidOperationException($"{tool} is missing; install util-linux and coreutils to run the evaluation sandbox");

        var root = Sandbox.IsRoot;
        var drop = root && File.Exists("/usr/bin/setpriv");
        var notes = new List<string>();
        var failures = new List<string>();
        SandboxMode[] modes = File.Exists("/usr/bin/unshare")
            ? [root ? SandboxMode.RootNamespaces : SandboxMode.UserNamespaces, SandboxMode.RlimitsOnly]
            : [SandboxMode.RlimitsOnly];
        foreach (var mode in modes)
        {
            var sandbox = new Sandbox(mode, drop, options);
            var (ok, why) = await TryAsync(sandbox, ct);
            if (!ok) { failures.Add($"{mode}: {why}"); continue; }
            notes.Add(mode switch
            {
                SandboxMode.RlimitsOnly => "network: NOT isolated (unshare --net is not allowed here: " + string.Join("; ", failures) + ")",
                _ => "network: isolated (new network namespace, loopback only)",
            });
            notes.Add(mode == SandboxMode.RlimitsOnly
                ? "filesystem: no private /tmp (no mount namespace); candidates write only where their uid may"
                : $"filesystem: private tmpfs on /tmp, /var/tmp, /dev/shm ({sandbox.Options.TmpfsBytes / StepLimits.MiB} MiB each); work dir {Sandbox.SandboxWorkDir}");
            notes.Add(mode == SandboxMode.RlimitsOnly ? "processes: own session and process group; stray processes swept by uid"
                : "processes: own session, process group and PID namespace (all descendants die with it)");
            notes.Add(drop
                ? $"privileges: candidates run as uid {sandbox.Options.UidBase}+slot (setpriv), so RLIMIT_NPROC is enforced"
                : root ? "privileges: running as root without setpriv: RLIMIT_NPROC is NOT enforced (fork bombs are bounded only by the timeout)"
                       : "privileges: candidates run as the invoking user; RLIMIT_NPROC counts all of that user's processes");
            notes.Add($"limits: RLIMIT_AS/CPU/NPROC per language, RLIMIT_FSIZE {sandbox.Options.MaxFileBytes / StepLimits.MiB} MiB, " +
                      $"{sandbox.Options.MaxOpenFiles} open files, output capped at {sandbox.Options.OutputHardCapBytes / StepLimits.MiB} MiB");
            return new Result(sandbox, notes);
        }
        throw new InvalidOperationException("no sandbox could be started: " + string.Join("; ", failures));
    }

    private static async Task<(bool, string)> TryAsync(Sandbox sandbox, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("codelm-probe-").FullName;
        try
        {
            var step = new SandboxStep(["/bin/cat", "/proc/net/dev"], new Dictionary<string, string>(), new StepLimits(256 * StepLimits.MiB, 5, 16));
            var r = await sandbox.RunAsync(dir, [step], TimeSpan.FromSeconds(15), TimeSpan.Zero, 0, ct);
            if (r.ExitCode != 0) return (false, FirstLine(r.Stderr));
            if (sandbox.HasNamespaces)
            {
                var devices = r.Stdout.Split('\n').Skip(2).Select(l => l.Split(':')[0].Trim()).Where(d => d.Length > 0).ToList();
                if (devices.Any(d => d != "lo")) return (false, "network namespace still sees " + string.Join(",", devices));
            }
            return (true, "");
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return (false, e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string FirstLine(string s)
    {
        var t = s.Trim();
        var i = t.IndexOf('\n');
        return i < 0 ? t : t[..i];
    }
}
