using System.Diagnostics;
using CodeLm.Server.Completion;
using CodeLm.Server.Engine;

namespace CodeLm.Server;

/// <summary>What `codelm serve` was asked for. Settings are defaults; the client overrides them.</summary>
public sealed record ServeOptions(string Checkpoint, string Device = "cpu", string? LogFile = null, LogLevel LogLevel = LogLevel.Info,
    CompletionSettings? Settings = null, bool WarmUp = true, bool ReuseKvCache = true);

/// <summary>`codelm serve`: load the model once, warm it up, then speak LSP on stdin/stdout until exit.</summary>
public static class ServeRunner
{
    public static async Task<int> RunAsync(ServeOptions options, CancellationToken ct = default)
    {
        // Take stdout for the protocol, then point Console.Out at stderr so no stray write can corrupt a frame.
        var stdout = Console.OpenStandardOutput();
        var stdin = Console.OpenStandardInput();
        Console.SetOut(Console.Error);
        using var log = ServerLog.Open(options.LogFile, options.LogLevel);
        var clock = Stopwatch.StartNew();
        using var engine = CheckpointCompletionEngine.Load(options.Checkpoint, options.Device, options.ReuseKvCache);
        log.Info($"loaded {options.Checkpoint} ({engine.Config.Layers} layers, {engine.Config.Embedding} wide, context {engine.ContextLength}) in {clock.ElapsedMilliseconds} ms");
        if (options.WarmUp)
        {
            clock.Restart();
            engine.WarmUp();
            log.Info($"warmed up in {clock.ElapsedMilliseconds} ms");
        }
        var completions = new CompletionService(engine, log) { Settings = options.Settings ?? new CompletionSettings() };
        return await LspServerHost.RunAsync(stdin, stdout, completions, log, ct);
    }
}
