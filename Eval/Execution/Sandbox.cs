using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace CodeLm.Eval.Execution;

/// <summary>Options every sandboxed run shares.</summary>
public sealed record SandboxOptions(
    int UidBase = 61000,
    long TmpfsBytes = 128 * StepLimits.MiB,
    long MaxFileBytes = 16 * StepLimits.MiB,
    int MaxOpenFiles = 256,
    int OutputHeadBytes = 16 * 1024,
    int OutputTailBytes = 4 * 1024,
    long OutputHardCapBytes = 4 * StepLimits.MiB);

/// <summary>
/// Runs a list of <see cref="SandboxStep"/>s in a fresh process group (setsid), inside new network/mount/PID namespaces
/// (unshare) where the machine allows it, with a private size-limited tmpfs as the only writable place, as an unprivileged
/// per-slot uid, under rlimits, with a stripped environment, stdin at /dev/null and capped output. On timeout or when the
/// output cap is hit the whole group is SIGKILLed; the PID namespace makes the kernel kill every descendant with it
/// (its init is the launcher shell, which unshare --kill-child kills when the group goes).
/// </summary>
public sealed class Sandbox
{
    public const string SandboxWorkDir = "/tmp/codelm";
    private const int SetupFailedExit = 96, CompileFailedExit = 97;

    public SandboxMode Mode { get; }
    public bool DropsPrivileges { get; }
    public SandboxOptions Options { get; }

    public Sandbox(SandboxMode mode, bool dropPrivileges, SandboxOptions? options = null)
    {
        Mode = mode;
        DropsPrivileges = dropPrivileges;
        Options = options ?? new SandboxOptions();
    }

    public bool HasNamespaces => Mode != SandboxMode.RlimitsOnly;

    /// <summary>The uid a slot's candidates run as (distinct per slot, so RLIMIT_NPROC and kill -1 stay within one slot).</summary>
    public int SlotUid(int slot) => Options.UidBase + slot;

    /// <summary>The home/work directory the candidate sees.</summary>
    public string CandidateDir(string hostWorkDir) => HasNamespaces ? SandboxWorkDir : hostWorkDir;

    /// <summary>
    /// Runs the steps. Compile steps get <paramref name="compileTimeout"/> in all; the clock for the run step
    /// (<paramref name="timeout"/>) starts when they are done.
    /// </summary>
    public async Task<SandboxResult> RunAsync(string hostWorkDir, IReadOnlyList<SandboxStep> steps, TimeSpan timeout, TimeSpan compileTimeout,
        int slot, CancellationToken ct)
    {
        if (steps.Count == 0) throw new ArgumentException("no steps to run", nameof(steps));
        var markers = new Markers(Guid.NewGuid().ToString("N"));
        var sw = Stopwatch.StartNew();
        using var process = Start(hostWorkDir, BuildScript(hostWorkDir, steps, slot, markers.CompileFailed, markers.Compiled));
        var pid = process.Id;
        using var killCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var output = new Output(Options, () => KillGroup(pid));
        var compiled = new MarkerWatch(markers.Compiled);
        var readOut = PumpAsync(process.StandardOutput.BaseStream, output.Stdout, output.OnChunk);
        var readErr = PumpAsync(process.StandardError.BaseStream, output.Stderr, output.OnChunk, compiled);

        var (timedOut, compileTimedOut) = await WaitAsync(process, steps.Any(s => s.IsCompile) ? compiled : null, timeout, compileTimeout, killCts.Token);
        await ReapAsync(process, slot, readOut, readErr);
        killCts.Cancel(); // releases the compile-timeout timer
        sw.Stop();
        ct.ThrowIfCancellationRequested();
        return Verdict(process.ExitCode, timedOut, compileTimedOut, compileTimeout, output, markers, sw.Elapsed);
    }

    // Per-run markers the script prints on stderr; the nonce keeps a candidate from faking them.
    private sealed record Markers(string Nonce)
    {
        public string CompileFailed => "codelm-compile-failed-" + Nonce;
        public string Compiled => "codelm-compiled-" + Nonce;
    }

    // Both streams, capped; past the hard cap the whole process group is killed (a candidate flooding its output).
    private sealed class Output(SandboxOptions options, Action kill)
    {
        public readonly CappedCapture Stdout = new(options.OutputHeadBytes, options.OutputTailBytes);
        public readonly CappedCapture Stderr = new(options.OutputHeadBytes, options.OutputTailBytes);
        public bool Exceeded { get; private set; }

        public void OnChunk()
        {
            if (Stdout.Total + Stderr.Total <= options.OutputHardCapBytes || Exceeded) return;
            Exceeded = true;
            kill();
        }
    }

    private Process Start(string hostWorkDir, string script)
    {
        var psi = new ProcessStartInfo("/usr/bin/setsid")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false, WorkingDirectory = hostWorkDir,
        };
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var a in LauncherArgs(script)) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi };
        process.Start();
        process.StandardInput.Close();
        return process;
    }

    /// <summary>
    /// Waits for the compile steps (their own clock, ended by the "compiled" marker) and then the run step; kills the
    /// process group on any way out. Returns which clock ran out.
    /// </summary>
    private static async Task<(bool TimedOut, bool CompileTimedOut)> WaitAsync(Process process, MarkerWatch? compiled, TimeSpan timeout,
        TimeSpan compileTimeout, CancellationToken ct)
    {
        var compileTimedOut = false;
        try
        {
            var exited = process.WaitForExitAsync(ct);
            if (compiled != null)
            {
                var first = await Task.WhenAny(exited, compiled.Seen, Task.Delay(compileTimeout, ct));
                if (first != exited && first != compiled.Seen) { compileTimedOut = true; throw new TimeoutException(); }
            }
            await exited.WaitAsync(timeout, ct);
            return (false, false);
        }
        catch (TimeoutException)
        {
            return (!compileTimedOut, compileTimedOut);
        }
        finally
        {
            if (!process.HasExited) KillGroup(process.Id);
        }
    }

    /// <summary>Makes sure nothing of the candidate is left running, then drains what it wrote.</summary>
    private async Task ReapAsync(Process process, int slot, Task readOut, Task readErr)
    {
        if (!process.HasExited)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        // Without a PID namespace, descendants that left the group may hold the pipes: sweep the slot uid.
        if (!HasNamespaces) SweepSlot(slot);
        KillGroup(process.Id);
        await Task.WhenAny(Task.WhenAll(readOut, readErr), Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
    }

    private static SandboxResult Verdict(int exit, bool timedOut, bool compileTimedOut, TimeSpan compileTimeout, Output output, Markers markers, TimeSpan elapsed)
    {
        var err = output.Stderr.Text();
        var compileFailed = compileTimedOut || (exit == CompileFailedExit && err.Contains(markers.CompileFailed, StringComparison.Ordinal));
        err = err.Replace(markers.CompileFailed, "").Replace(markers.Compiled + "\n", "").Replace(markers.Compiled, "").TrimEnd();
        if (compileTimedOut) err = $"compilation did not finish in {compileTimeout.TotalSeconds:0.#} s\n" + err;
        var setupFailed = exit == SetupFailedExit && err.Contains("codelm-sandbox-setup-failed", StringComparison.Ordinal);
        return new SandboxResult(exit, timedOut, compileFailed, output.Exceeded, setupFailed, output.Stdout.Text(), output.Stdout.TailText(), err, elapsed);
    }

    private IEnumerable<string> LauncherArgs(string script)
    {
        // setsid runs the launcher as a new session and process-group leader (pid == pgid), so one kill(-pid) reaches it all.
        switch (Mode)
        {
            case SandboxMode.RootNamespaces:
                foreach (var a in (string[])["/usr/bin/unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]) yield return a;
                break;
            case SandboxMode.UserNamespaces:
                foreach (var a in (string[])["/usr/bin/unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]) yield return a;
                break;
        }
        yield return "/bin/sh";
        yield return "-c";
        yield return script;
        yield return "codelm-sandbox";
    }

    /// <summary>The launcher script. Only harness-made strings go in it (quoted); candidate code lives in files.</summary>
    internal string BuildScript(string hostWorkDir, IReadOnlyList<SandboxStep> steps, int slot, string compileMarker, string compiledMarker)
    {
        var uid = SlotUid(slot);
        var s = new StringBuilder();
        s.Append("exec </dev/null\n");
        s.Append("fail() { echo \"codelm-sandbox-setup-failed: $1\" >&2; exit ").Append(SetupFailedExit).Append("; }\n");
        if (HasNamespaces)
        {
            var tmpfs = $"size={Options.TmpfsBytes},nr_inodes=4096,mode=1777,nosuid,nodev";
            // The current directory (the host work dir) stays reachable through cwd after /tmp is covered.
            foreach (var d in new[] { "/tmp", "/var/tmp", "/dev/shm" })
                s.Append($"if [ -d {d} ]; then mount -t tmpfs -o {tmpfs} codelm {d} || fail 'mount {d}'; fi\n");
            s.Append($"mkdir {SandboxWorkDir} && cp -R . {SandboxWorkDir}/ && cd {SandboxWorkDir} || fail 'copy work dir'\n");
        }
        s.Append("mkdir -p .tmp || fail 'make .tmp'\n");
        if (DropsPrivileges) s.Append($"chown -R {uid}:{uid} . || fail chown\n");
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var last = i == steps.Count - 1;
            var cmd = StepCommand(step, uid, hostWorkDir);
            if (step.IsCompile && (last || !steps[i + 1].IsCompile))
                cmd += $" && echo {Quote(compiledMarker)} >&2";
            // The shell stays as the namespace's PID 1: a candidate running as PID 1 could not die of its own
            // SIGABRT (init ignores default-action signals), so abort() and uncaught exceptions would turn into SIGSEGV.
            if (last && !step.IsCompile) s.Append(cmd).Append("\nexit $?\n");
            else if (step.IsCompile) s.Append(cmd).Append($" || {{ echo {Quote(compileMarker)} >&2; exit {CompileFailedExit}; }}\n");
            else s.Append(cmd).Append(" || exit $?\n");
        }
        return s.ToString();
    }

    private string StepCommand(SandboxStep step, int uid, string hostWorkDir)
    {
        var l = step.Limits;
        var parts = new List<string>
        {
            "/usr/bin/prlimit", $"--as={l.AddressSpaceBytes}", $"--cpu={l.CpuSeconds}", $"--nproc={l.MaxProcesses}",
            $"--fsize={Options.MaxFileBytes}", $"--nofile={Options.MaxOpenFiles}", "--core=0", "--",
        };
        if (DropsPrivileges)
            parts.AddRange(["/usr/bin/setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]);
        parts.AddRange(["/usr/bin/env", "-i"]);
        var home = CandidateDir(hostWorkDir);
        var env = new Dictionary<string, string> { ["HOME"] = home, ["TMPDIR"] = home + "/.tmp", ["LANG"] = "C.UTF-8", ["PATH"] = "/usr/local/bin:/usr/bin:/bin" };
        foreach (var (k, v) in step.Environment) env[k] = v;
        foreach (var (k, v) in env) parts.Add($"{k}={v}");
        parts.AddRange(step.Argv);
        return string.Join(' ', parts.Select(Quote));
    }

    internal static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static async Task PumpAsync(Stream stream, CappedCapture capture, Action onChunk, MarkerWatch? watch = null)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                capture.Add(buffer.AsSpan(0, n));
                watch?.Feed(buffer.AsSpan(0, n));
                onChunk();
            }
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    private static void KillGroup(int pgid)
    {
        if (kill(-pgid, 9) != 0) kill(pgid, 9);
    }

    /// <summary>Kills every process the slot uid owns (kill -1 as that uid): catches daemons that escaped the group.</summary>
    private void SweepSlot(int slot)
    {
        if (!DropsPrivileges) return;
        var uid = SlotUid(slot).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var psi = new ProcessStartInfo("/usr/bin/setpriv") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])[$"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--", "/bin/kill", "-KILL", "-1"]) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        using var p = Process.Start(psi)!;
        p.WaitForExit(5000);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern uint geteuid();

    public static bool IsRoot => OperatingSystem.IsLinux() && geteuid() == 0;
}
