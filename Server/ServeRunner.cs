using CodeLm.Common;
using System.Diagnostics;
using CodeLm.Model.Inference;
using CodeLm.Server.Completion;
using CodeLm.Server.Engine;
using CodeLm.Server.Stats;
using CodeLm.Model;

namespace CodeLm.Server;

/// <summary>What `codelm serve` was asked for. Settings are defaults; the client overrides them.</summary>
public sealed record ServeOptions(string Checkpoint, string Device = "cpu", string? LogFile = null, LogLevel LogLevel = LogLevel.Info,
    CompletionSettings? Settings = null, bool WarmUp = true, bool ReuseKvCache = true, InferencePrecision Precision = InferencePrecision.Auto,
    string? AcceptanceLogPath = null);

/// <summary>`codelm serve`: load the model once, warm it up, then speak LSP on stdin/stdout until exit.</summary>
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
        // Take stdout for the protocol, then point Console.Out at stderr so no stray write can corrupt a frame.
        var stdout = Console.OpenStandardOutput();
        var stdin = Console.OpenStandardInput();
        Console.SetOut(Console.Error);
        using var log = ServerLog.Open(options.LogFile, options.LogLevel);
        var clock = Stopwatch.StartNew();
        using var engine = CheckpointCompletionEngine.Load(options.Checkpoint, options.Device, options.ReuseKvCache, options.Precision, line => log.Info(line));
        log.Info($"loaded {options.Checkpoint} ({engine.Config.Layers} layers, {engine.Config.Embedding} wide, context {engine.ContextLength}; {engine.Weights}) in {clock.ElapsedMilliseconds} ms");
        if (options.WarmUp)
        {
            clock.Restart();
            engine.WarmUp();
            log.Info($"warmed up in {clock.ElapsedMilliseconds} ms");
        }
        var completions = new CompletionService(engine, log) { Settings = options.Settings ?? new CompletionSettings() };
        var events = new AcceptanceLog(options.AcceptanceLogPath ?? AcceptanceLog.DefaultPath);
        return await LspServerHost.RunAsync(stdin, stdout, completions, log, ct, events, Path.GetFullPath(Checkpoint.Resolve(options.Checkpoint)));
    }
}
