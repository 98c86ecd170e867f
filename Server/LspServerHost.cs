using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using CodeLm.Server.Completion;
using CodeLm.Server.Documents;
using CodeLm.Server.Stats;
using CodeLm.Server.Transport;
using Microsoft.VisualStudio.Threading;
using StreamJsonRpc;

namespace CodeLm.Server;

/// <summary>Runs one LSP session over a pair of streams (stdin/stdout for `codelm serve`) until `exit` or end of input.</summary>
public static class LspServerHost
{
    public static JsonSerializerOptions JsonOptions() => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The exit code: 0 after shutdown + exit, 1 when the client exits or disconnects without shutdown.</summary>
    /// <paramref name="events"/>: where the editor's completion events go (none: dropped); <paramref name="model"/> names the model there.
    public static async Task<int> RunAsync(Stream input, Stream output, CompletionService completions, ServerLog log, CancellationToken ct = default,
        AcceptanceLog? events = null, string model = "")
    {
        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = JsonOptions() };
        using var handler = new LspMessageHandler(input, output, formatter, log);
        var version = typeof(LspServerHost).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var server = new LanguageServer(completions, new DocumentStore(), log, version, events, model);
        using var rpc = new JsonRpc(handler)
        {
            // Order matters (didChange before the completion that follows it): one message at a time until it awaits.
            SynchronizationContext = new NonConcurrentSynchronizationContext(sticky: false),
            CancelLocallyInvokedMethodsWhenConnectionIsClosed = true,
        };
        rpc.TraceSource = new TraceSource("codelm.jsonrpc", SourceLevels.Warning);
        rpc.TraceSource.Listeners.Clear();
        rpc.TraceSource.Listeners.Add(new LogTraceListener(log));
        rpc.AddLocalRpcTarget(server, new JsonRpcTargetOptions { DisposeOnDisconnect = false });
        rpc.StartListening();
        log.Info($"codelm LSP server {version} listening on stdio");

        using var watch = ParentWatch(server, log);
        var disconnected = rpc.Completion.ContinueWith(t =>
        {
            if (t.Exception != null) log.Error("connection failed: " + t.Exception.InnerException?.Message);
            return server.ShutdownRequested ? 0 : 1;
        }, TaskScheduler.Default);
        var cancelled = Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => 1, TaskScheduler.Default);
        var code = await await Task.WhenAny(server.Exited, disconnected, cancelled);
        log.Info($"server stopping (exit code {code}); {handler.Rejected} malformed messages rejected, " +
                 $"{completions.Generated} generated, {completions.CacheHits} cache hits, {completions.Continued} typed along, {completions.Superseded} superseded");
        return code;
    }

    /// <summary>Exits the session when the editor process named in initialize dies (the LSP `processId` contract).</summary>
    private static Timer ParentWatch(LanguageServer server, ServerLog log) => new(_ =>
    {
        if (server.ClientProcessId is not { } pid || pid <= 0) return;
        try { using var p = Process.GetProcessById(pid); if (!p.HasExited) return; }
        catch (ArgumentException) { }
        log.Warn($"client process {pid} is gone; exiting");
        server.Exit();
    }, null, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3));

    private sealed class LogTraceListener(ServerLog log) : TraceListener
    {
        public override void Write(string? message) { }
        public override void WriteLine(string? message) { if (!string.IsNullOrEmpty(message)) log.Debug("jsonrpc: " + message); }
        public override void TraceEvent(TraceEventCache? eventCache, string source, TraceEventType eventType, int id, string? message)
        {
            if (eventType <= TraceEventType.Warning) log.Warn("jsonrpc: " + message);
        }
        public override void TraceEvent(TraceEventCache? eventCache, string source, TraceEventType eventType, int id, string? format, params object?[]? args)
        {
            if (eventType <= TraceEventType.Warning)
                log.Warn("jsonrpc: " + (args is { Length: > 0 } && format != null ? string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args) : format));
        }
    }
}
