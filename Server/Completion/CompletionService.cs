using CodeLm.Common.Completion;
using CodeLm.Common;
using System.Collections.Concurrent;
using System.Diagnostics;

namespace CodeLm.Server.Completion;

/// <summary>How a completion request ended, with timings for the log and the benchmark.</summary>
public sealed record CompletionOutcome(ShapedCompletion? Completion, bool Cached, bool Superseded, double Milliseconds);

/// <summary>
/// Turns (document text, cursor) into a shaped completion: prompt fitted by the engine, LRU cache, one generation at a time on
/// the model, and a newer request for the same document cancelling the older one.
/// </summary>
public sealed class CompletionService(ICompletionEngine engine, ServerLog log, int cacheCapacity = 512)
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> inFlight = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim modelGate = new(1, 1);
    private CompletionSettings settings = new();

    public CompletionCache Cache { get; } = new(cacheCapacity);

    public CompletionSettings Settings
    {
        get => Volatile.Read(ref settings);
        set => Volatile.Write(ref settings, value);
    }

    private long generated, cacheHits, superseded;

    /// <summary>Requests the model ran for, answered from the cache, and superseded by a newer request.</summary>
    public long Generated => Interlocked.Read(ref generated);
    public long CacheHits => Interlocked.Read(ref cacheHits);
    public long Superseded => Interlocked.Read(ref superseded);

    /// <summary>
    /// Registers the request as the newest for <paramref name="uri"/> (a document, per kind of request: cancelling older
    /// ones there) synchronously, then completes
    /// asynchronously. Throws <see cref="OperationCanceledException"/> when <paramref name="ct"/> (the client) cancels;
    /// returns a superseded outcome when a newer request for the document took over.
    /// </summary>
    public Task<CompletionOutcome> CompleteAsync(string uri, string text, int offset, string languageId, CancellationToken ct)
    {
        var mine = CancellationTokenSource.CreateLinkedTokenSource(ct);
        inFlight.AddOrUpdate(uri, mine, (_, previous) =>
        {
            if (previous != mine)
                try { previous.Cancel(); } catch (ObjectDisposedException) { } // it finished meanwhile
            return mine;
        });
        return RunAsync(uri, text, offset, languageId, mine, ct);
    }

    private async Task<CompletionOutcome> RunAsync(string uri, string text, int offset, string languageId, CancellationTokenSource mine, CancellationToken clientCt)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            // Leave StreamJsonRpc's non-concurrent context (Task.Yield would post back onto it): prompt building and
            // generation run for tens of milliseconds, and must not hold up the dispatch of $/cancelRequest or didChange.
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            var s = Settings;
            var ctx = CursorContext.Create(text, offset);
            var options = new EngineOptions(s.MaxNewTokens, s.Temperature, s.FimFormat, s.ContextBudget, s.PrefixShare);
            var prompt = engine.Fit(CompletionPrompt.Around(ctx, LanguageTable.FromLspId(languageId)), options);
            var key = CompletionCache.KeyOf(prompt, options, ctx.Mode);
            var cached = Cache.TryGet(key, out var raw);
            if (cached) Interlocked.Increment(ref cacheHits);
            else
            {
                await modelGate.WaitAsync(mine.Token);
                try
                {
                    mine.Token.ThrowIfCancellationRequested();
                    raw = engine.Complete(prompt, options, soFar => CompletionShaper.ShouldStop(ctx, soFar), mine.Token);
                }
                finally { modelGate.Release(); }
                Interlocked.Increment(ref generated);
                Cache.Add(key, raw);
            }
            var shaped = CompletionShaper.Shape(ctx, raw);
            log.Debug($"completion {uri} mode={ctx.Mode} cached={cached} {clock.Elapsed.TotalMilliseconds:F0} ms: {Preview(shaped?.InsertText)}");
            return new CompletionOutcome(shaped, cached, false, clock.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (!clientCt.IsCancellationRequested)
        {
            Interlocked.Increment(ref superseded);
            return new CompletionOutcome(null, false, true, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            inFlight.TryRemove(new KeyValuePair<string, CancellationTokenSource>(uri, mine));
            mine.Dispose();
        }
    }

    /// <summary>
    /// The model's translation of <paramref name="code"/> (languages by display name), laid out as evaluation and
    /// <c>codelm translate</c> ask it, generated after any completion in progress: one generation at a time.
    /// </summary>
    public async Task<string> TranslateAsync(string code, string fromLanguage, string toLanguage, int maxNewTokens, CancellationToken ct)
    {
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        var prompt = TranslationPrompt.Build(fromLanguage, code, toLanguage);
        var tokens = engine.CountTokens(prompt);
        if (tokens + maxNewTokens > engine.ContextLength)
            throw new PromptTooLongException(tokens, engine.ContextLength - maxNewTokens);
        var clock = Stopwatch.StartNew();
        await modelGate.WaitAsync(ct);
        try
        {
            var text = engine.Continue(prompt, maxNewTokens, TranslationPrompt.Stops(fromLanguage, toLanguage), ct).Trim('\n') + "\n";
            log.Info($"translation {fromLanguage} → {toLanguage}: {tokens} prompt tokens, {text.Length} characters in {clock.Elapsed.TotalMilliseconds:F0} ms");
            return text;
        }
        finally { modelGate.Release(); }
    }

    private static string Preview(string? s) => s == null ? "(none)" : s.Length <= 60 ? s.Replace("\n", "\\n") : s[..60].Replace("\n", "\\n") + "…";
}

/// <summary>A request whose prompt leaves no room in the model's context for the answer.</summary>
public sealed class PromptTooLongException(int promptTokens, int limit)
    : Exception($"the text is {promptTokens} tokens; this model can take at most {limit} with room for the answer: select less")
{
    public int PromptTokens { get; } = promptTokens;
    public int Limit { get; } = limit;
}
