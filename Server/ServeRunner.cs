using CodeLm.Common;
using System.Diagnostics;
using CodeLm.Model.Inference;
using CodeLm.Server.Completion;
using CodeLm.Server.Engine;
using CodeLm.Server.Http;
using CodeLm.Server.Stats;
using CodeLm.Model;

namespace CodeLm.Server;

/// <summary>
/// What `codelm serve` was asked for. Settings are defaults; the client overrides them. The model is a
/// <paramref name="Checkpoint"/> loaded here, or, for the language server, a remote <see cref="Backend"/> (an
/// OpenAI-compatible endpoint's /v1 URL) serving <see cref="Model"/>. With <see cref="Http"/> the checkpoint is served
/// over the OpenAI completions API instead of LSP.
/// </summary>
public sealed record ServeOptions(string? Checkpoint, string Device = "cpu", string? LogFile = null, LogLevel LogLevel = LogLevel.Info,
    CompletionSettings? Settings = null, bool WarmUp = true, bool ReuseKvCache = true, InferencePrecision Precision = InferencePrecision.Auto,
    string? AcceptanceLogPath = null)
{
    public HttpServeOptions? Http { get; init; }

    /// <summary>A file holding the API key: with <see cref="Http"/>, the one clients must send; with <see cref="Backend"/>, the one sent to it.</summary>
    public string? ApiKeyFile { get; init; }

    public string? Backend { get; init; }

    /// <summary>The backend's model name (its <c>/v1/models</c> id).</summary>
    public string? Model { get; init; }

    /// <summary>How the backend gets fill-in-the-middle: "suffix" (the field), a family name or a template (see <see cref="FimTemplate"/>).</summary>
    public string BackendFim { get; init; } = "suffix";

    /// <summary>Log lines as JSON objects (for log collectors) instead of text.</summary>
    public bool JsonLog { get; init; }
}

/// <summary>`codelm serve`: load the model once, warm it up, then speak LSP on stdin/stdout (or HTTP) until exit.</summary>
public static class ServeRunner
{
    public static async Task<int> RunAsync(ServeOptions options, CancellationToken ct = default)
    {
        if (options.Settings is { } given)
        {
            if (given.MaxNewTokens is < 1 or > 1024) throw new OptionException(nameof(given.MaxNewTokens), $"must be in [1, 1024], got {given.MaxNewTokens}");
            if (!(given.Temperature is >= 0 and <= 2)) throw new OptionException(nameof(given.Temperature), $"must be in [0, 2], got {given.Temperature}");
            if (given.ContextBudget < 32) throw new OptionException(nameof(given.ContextBudget), $"must be at least 32, got {given.ContextBudget}");
        }
        var backend = Validate(options);
        var apiKey = ReadKey(options.ApiKeyFile);
        if (options.Http is { } http) return await RunHttpAsync(options, http with { ApiKey = apiKey, Fim = options.Settings?.FimFormat ?? http.Fim }, ct);

        // Take stdout for the protocol, then point Console.Out at stderr so no stray write can corrupt a frame.
        var stdout = Console.OpenStandardOutput();
        var stdin = Console.OpenStandardInput();
        Console.SetOut(Console.Error);
        using var log = ServerLog.Open(options.LogFile, options.LogLevel, options.JsonLog);
        ICompletionEngine engine;
        string model;
        if (backend != null)
        {
            var fim = options.BackendFim == "suffix" ? null : FimTemplate.Parse(options.BackendFim);
            var remote = await OpenAiBackendEngine.ConnectAsync(new BackendOptions(backend, options.Model!, apiKey) { Fim = fim }, log.Warn, ct);
            log.Info($"completions from {remote.BaseUrl} (model {remote.Model}, context {remote.ContextLength})");
            (engine, model) = (remote, $"{remote.Model} at {remote.BaseUrl}");
        }
        else
        {
            var local = LoadCheckpoint(options, log);
            (engine, model) = (local, Path.GetFullPath(Checkpoint.Resolve(options.Checkpoint!)));
        }
        using var owned = (IDisposable)engine;
        var completions = new CompletionService(engine, log) { Settings = options.Settings ?? new CompletionSettings() };
        var events = new AcceptanceLog(options.AcceptanceLogPath ?? AcceptanceLog.DefaultPath);
        return await LspServerHost.RunAsync(stdin, stdout, completions, log, ct, events, model);
    }

    /// <summary>`codelm serve --http`: the checkpoint behind the OpenAI completions API until Ctrl+C (or SIGTERM).</summary>
    private static async Task<int> RunHttpAsync(ServeOptions options, HttpServeOptions http, CancellationToken ct)
    {
        http.Validate();
        using var log = ServerLog.Open(options.LogFile, options.LogLevel, options.JsonLog);
        using var engine = LoadCheckpoint(options, log);
        await using var server = await OpenAiHttpServer.StartAsync(engine, http, log, ct);
        try { await server.WaitForShutdownAsync(ct); }
        catch (OperationCanceledException) { }
        log.Info($"server stopping: {server.Queue.Completed} completed, {server.Queue.Cancelled} cancelled, {server.Queue.Rejected} refused (queue full), {server.Queue.TokensGenerated} tokens");
        return 0;
    }

    private static CheckpointCompletionEngine LoadCheckpoint(ServeOptions options, ServerLog log)
    {
        var clock = Stopwatch.StartNew();
        var engine = CheckpointCompletionEngine.Load(options.Checkpoint!, options.Device, options.ReuseKvCache, options.Precision, line => log.Info(line));
        log.Info($"loaded {options.Checkpoint} ({engine.Config.Layers} layers, {engine.Config.Embedding} wide, context {engine.ContextLength}; {engine.Weights}) in {clock.ElapsedMilliseconds} ms");
        if (options.WarmUp)
        {
            clock.Restart();
            engine.WarmUp();
            log.Info($"warmed up in {clock.ElapsedMilliseconds} ms");
        }
        return engine;
    }

    /// <summary>One model source: a checkpoint, or a backend with its model name (LSP only). Returns the backend's URL.</summary>
    private static Uri? Validate(ServeOptions options)
    {
        if (options.Backend is null)
        {
            if (string.IsNullOrEmpty(options.Checkpoint)) throw new OptionException(nameof(options.Checkpoint), "is required (or --backend URL --model NAME to use a remote server)");
            if (options.Model is not null) throw new OptionException(nameof(options.Model), "names a backend's model; it needs --backend");
            return null;
        }
        if (!string.IsNullOrEmpty(options.Checkpoint)) throw new OptionException(nameof(options.Backend), "and --checkpoint are two places for the model: give one");
        if (options.Http is not null) throw new OptionException(nameof(options.Backend), "serves the language server from a remote model; --http serves a local checkpoint");
        if (!Uri.TryCreate(options.Backend, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new OptionException(nameof(options.Backend), $"'{options.Backend}' is not an http(s) URL such as http://gpu-node:8000/v1");
        if (string.IsNullOrWhiteSpace(options.Model)) throw new OptionException(nameof(options.Model), "is required with --backend: the name the server lists under /v1/models");
        if (options.BackendFim != "suffix" && FimTemplate.Parse(options.BackendFim) is null)
            throw new OptionException(nameof(options.BackendFim), $"'{options.BackendFim}' is not suffix, {string.Join(", ", FimTemplate.Named.Keys)} or a template with {FimTemplate.PrefixSlot} and {FimTemplate.SuffixSlot}");
        return url;
    }

    private static string? ReadKey(string? path)
    {
        if (path is null) return null;
        var key = File.ReadAllText(path).Trim();
        return key.Length > 0 ? key : throw new OptionException(nameof(ServeOptions.ApiKeyFile), $"'{path}' is empty");
    }
}
