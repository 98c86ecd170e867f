using System.Collections.Concurrent;
using System.Security.Cryptography;
using CodeLm.Eval.Languages;
using CodeLm.Eval.Problems;

namespace CodeLm.Eval.Execution;

/// <summary>Options for executing candidates.</summary>
public sealed record ExecutorOptions(TimeSpan Timeout, SandboxOptions? Sandbox = null)
{
    /// <summary>Wall-clock time a candidate's run gets unless asked otherwise; compilation has its own allowance.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Tool name → executable path, overriding the lookup (e.g. a specific JDK's javac); a missing path makes the language unavailable.</summary>
    public IReadOnlyDictionary<string, string>? ToolPaths { get; init; }

    public static ExecutorOptions Default { get; } = new(TimeSpan.FromSeconds(5));
}

/// <summary>
/// Runs candidates (prompt + completion + test) in the sandbox, one fresh work directory each, removed afterwards.
/// Create with <see cref="CreateAsync"/>: it probes the sandbox and each requested language's toolchain once.
/// Thread-safe: callers run candidates in parallel, each with its own slot number (0..jobs-1).
/// </summary>
public sealed class CandidateExecutor : IDisposable
{
    private readonly string _root;
    // What runners' set-ups built, beside the work root so the work root holds only running candidates.
    private readonly string _shared = Directory.CreateTempSubdirectory("codelm-eval-shared-").FullName;
    private readonly Dictionary<string, RunnerTools> _tools = new();

    public Sandbox Sandbox { get; }
    public IReadOnlyList<string> SandboxNotes { get; }
    public IReadOnlyDictionary<string, ToolchainStatus> Toolchains { get; }
    public ExecutorOptions Options { get; }

    /// <summary>The directory holding each candidate's work directory while it runs (empty between runs).</summary>
    public string WorkRoot => _root;

    private CandidateExecutor(SandboxProbe.Result probe, ExecutorOptions options, string root)
    {
        Sandbox = probe.Sandbox;
        SandboxNotes = probe.Notes;
        Options = options;
        _root = root;
        Toolchains = new ConcurrentDictionary<string, ToolchainStatus>();
    }

    public static async Task<CandidateExecutor> CreateAsync(IEnumerable<string> languages, ExecutorOptions? options = null, CancellationToken ct = default)
    {
        options ??= ExecutorOptions.Default;
        var probe = await SandboxProbe.DetectAsync(options.Sandbox, ct);
        var root = Directory.CreateTempSubdirectory("codelm-eval-").FullName;
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var executor = new CandidateExecutor(probe, options, root);
        var statuses = (ConcurrentDictionary<string, ToolchainStatus>)executor.Toolchains;
        var checks = languages.Distinct().Select(async language => (language, status: await executor.ProbeLanguageAsync(language, ct)));
        foreach (var (language, status) in await Task.WhenAll(checks)) statuses[language] = status;
        return executor;
    }

    private async Task<ToolchainStatus> ProbeLanguageAsync(string language, CancellationToken ct)
    {
        if (!LanguageRunner.All.TryGetValue(language, out var runner)) return new ToolchainStatus(language, false, "no runner for this language");
        var found = runner.Tools.ToDictionary(t => t, t => Options.ToolPaths?.TryGetValue(t, out var p) == true ? (File.Exists(p) ? p : null) : Toolchain.Find(t));
        var missing = found.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList();
        if (missing.Count > 0) return new ToolchainStatus(language, false, $"not installed: {string.Join(", ", missing)} (fix: {runner.InstallHint})");
        var shared = Directory.CreateDirectory(Path.Combine(_shared, LanguageRunner.All.Keys.ToList().IndexOf(language).ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
        var tools = new RunnerTools(found.ToDictionary(kv => kv.Key, kv => kv.Value!), shared);
        if (await runner.SetUpAsync(tools, ct) is { } setUpFailed) return new ToolchainStatus(language, false, setUpFailed);
        lock (_tools) _tools[language] = tools;
        // Probe slots are past the worker slots so they never share a uid with a running candidate.
        var slot = 1000 + LanguageRunner.All.Keys.ToList().IndexOf(language);
        var r = await RunAsync(runner.HelloWorld, runner.HelloWorld.CanonicalSolution, slot, TimeSpan.FromSeconds(30), ct);
        var where = string.Join(", ", found.Values);
        if (r.Status == ExecutionStatus.Passed) return new ToolchainStatus(language, true, $"{await VersionAsync(runner, tools, ct)} ({where})");
        lock (_tools) _tools.Remove(language);
        return new ToolchainStatus(language, false, $"hello-world did not pass in the sandbox ({ExecutionResult.StatusName(r.Status)}): {Excerpt(r.Detail, 300)}");
    }

    private static async Task<string> VersionAsync(LanguageRunner runner, RunnerTools tools, CancellationToken ct)
    {
        var tool = tools[runner.Tools[0]];
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/local/bin:/usr/bin:/bin", ["HOME"] = tools.SharedDir, ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" };
        var (exit, output) = await ChildProcess.RunAsync([tool, .. runner.VersionArgs], tools.SharedDir, env, TimeSpan.FromSeconds(30), ct);
        var first = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return exit == 0 && first is not null ? first : "version unknown";
    }

    /// <summary>Why a language's tools are gone since the probe (and it is now unavailable), or null while they are all there.</summary>
    private string? Gone(string language, RunnerTools tools)
    {
        var missing = tools.Paths.Where(kv => !File.Exists(kv.Value)).Select(kv => $"{kv.Key} ({kv.Value})").ToList();
        if (missing.Count == 0) return null;
        var why = $"{string.Join(", ", missing)} disappeared during the run (fix: {LanguageRunner.All[language].InstallHint}, then rerun with the same output directory to execute these again)";
        lock (_tools) _tools.Remove(language);
        ((ConcurrentDictionary<string, ToolchainStatus>)Toolchains)[language] = new ToolchainStatus(language, false, why);
        return why;
    }

    public bool IsAvailable(string language) => Toolchains.TryGetValue(language, out var s) && s.Available;

    /// <summary>
    /// Runs one candidate. <paramref name="slot"/> must be unique among candidates running at the same time;
    /// <paramref name="timeout"/> overrides <see cref="ExecutorOptions.Timeout"/>.
    /// </summary>
    public Task<ExecutionResult> ExecuteAsync(Problem problem, string completion, int slot, CancellationToken ct = default, TimeSpan? timeout = null)
    {
        if (!IsAvailable(problem.Language))
        {
            var why = Toolchains.TryGetValue(problem.Language, out var s) ? s.Detail : "toolchain not probed";
            return Task.FromResult(new ExecutionResult(ExecutionStatus.Unavailable, null, 0, why));
        }
        return RunAsync(problem, completion, slot, timeout ?? Options.Timeout, ct);
    }

    private async Task<ExecutionResult> RunAsync(Problem problem, string completion, int slot, TimeSpan timeout, CancellationToken ct)
    {
        var runner = LanguageRunner.All[problem.Language];
        RunnerTools? tools;
        lock (_tools) _tools.TryGetValue(problem.Language, out tools);
        if (tools is null) return new ExecutionResult(ExecutionStatus.Unavailable, null, 0, Toolchains[problem.Language].Detail);
        var sentinel = "CODELM_TESTS_COMPLETED_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var work = Path.Combine(_root, $"job-{slot}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var program = runner.BuildProgram(problem, completion + problem.Infill?.Suffix, sentinel);
            if (runner.MissingLibrary(program) is { } missing) return new ExecutionResult(ExecutionStatus.Unavailable, null, 0, missing);
            var started = DateTime.UtcNow;
            var prepared = runner.Prepare(work, program, tools, timeout, ct);
            if (prepared.CompileError is { } compileError)
                return new ExecutionResult(ExecutionStatus.CompileError, null, (long)(DateTime.UtcNow - started).TotalMilliseconds, Excerpt(compileError, 2000));
            var r = await Sandbox.RunAsync(work, prepared.Steps, timeout, runner.CompileTimeout, slot, ct);
            var ms = (long)r.Elapsed.TotalMilliseconds;
            if (r.SetupFailed) throw new InvalidOperationException("the sandbox failed to start: " + Excerpt(r.Stderr, 500));
            // A toolchain removed or upgraded mid-run is the machine's fault: unavailable, so a rerun executes these again.
            if (runner.Passed(r, sentinel) is false && Gone(problem.Language, tools) is { } gone)
                return new ExecutionResult(ExecutionStatus.Unavailable, null, ms, gone);
            if (r.CompileFailed) return new ExecutionResult(ExecutionStatus.CompileError, r.ExitCode, ms, Excerpt(r.Stderr, 2000));
            if (r.TimedOut) return new ExecutionResult(ExecutionStatus.TimedOut, null, ms, $"no result within {timeout.TotalSeconds:0.#} s\n" + Excerpt(r.Stderr, 1000));
            if (r.OutputLimitExceeded) return new ExecutionResult(ExecutionStatus.Failed, r.ExitCode, ms, "output limit exceeded");
            if (runner.Passed(r, sentinel)) return new ExecutionResult(ExecutionStatus.Passed, 0, ms, "");
            var why = r.ExitCode == 0 ? "exited 0 before the tests finished (no completion sentinel)\n" : $"exit code {r.ExitCode}\n";
            return new ExecutionResult(ExecutionStatus.Failed, r.ExitCode, ms, why + Excerpt(r.Stderr, 2000));
        }
        finally
        {
            TryDelete(work);
        }
    }

    /// <summary>The first and last part of a long text.</summary>
    public static string Excerpt(string text, int max)
    {
        text = text.Trim();
        if (text.Length <= max) return text;
        var half = max / 2;
        return text[..half] + "\n…\n" + text[^half..];
    }

    private static void TryDelete(string dir)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); return; }
            catch (IOException) { Thread.Sleep(50); }
            catch (UnauthorizedAccessException) { Thread.Sleep(50); }
        }
    }

    public void Dispose()
    {
        TryDelete(_root);
        TryDelete(_shared);
    }
}
