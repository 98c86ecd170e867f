using CodeLm.Tokenizer;
using CodeLm.Common.Completion;
using CodeLm.Common;
using System.Collections.Concurrent;
using System.Diagnostics;
using CodeLm.Model.Generation;

namespace CodeLm.Server.Completion;

/// <summary>
/// How a completion request ended, with timings for the log and the benchmark: the items (the greedy one first), whether
/// the cache answered, and whether they are the rest of the items shown before (<see cref="Continued"/>), typed along.
/// </summary>
public sealed record CompletionOutcome(IReadOnlyList<ShapedCompletion> Completions, bool Cached, bool Superseded, double Milliseconds)
{
    public ShapedCompletion? Completion => Completions.Count > 0 ? Completions[0] : null;
    public bool Continued { get; init; }
}

/// <summary>
/// Turns (document text, cursor) into shaped completions: prompt fitted by the engine, LRU cache, one generation at a time
/// on the model, a newer request for the same document cancelling the older one, and typing along a shown completion
/// answered from it.
/// </summary>
public sealed class CompletionService(ICompletionEngine engine, ServerLog log, int cacheCapacity = 512)
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ShownCompletion> shown = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim modelGate = new(1, 1);
    private CompletionSettings settings = new();

    /// <summary>Raw middles by prompt: the greedy one, or the samples of the extra candidates.</summary>
    public CompletionCache<string[]> Cache { get; } = new(cacheCapacity);

    public CompletionSettings Settings
    {
        get => Volatile.Read(ref settings);
        set => Volatile.Write(ref settings, value);
    }

    private long generated, cacheHits, superseded, continued;

    /// <summary>Requests the model ran for, answered from the cache, superseded by a newer request, and answered from a shown completion.</summary>
    public long Generated => Interlocked.Read(ref generated);
    public long CacheHits => Interlocked.Read(ref cacheHits);
    public long Superseded => Interlocked.Read(ref superseded);
    public long Continued => Interlocked.Read(ref continued);

    /// <summary>
    /// Registers the request as the newest for <paramref name="uri"/> (a document, per kind of request: cancelling older
    /// ones there) synchronously, then completes asynchronously with up to <paramref name="candidates"/> distinct items.
    /// Throws <see cref="OperationCanceledException"/> when <paramref name="ct"/> (the client) cancels; returns a
    /// superseded outcome when a newer request for the document took over.
    /// </summary>
    /// <paramref name="repo"/>: where the document sits in its repository and how to rank other files for context.
    public Task<CompletionOutcome> CompleteAsync(string uri, string text, int offset, string languageId, CancellationToken ct, int candidates = 1,
        RepoContextRequest? repo = null)
    {
        var mine = CancellationTokenSource.CreateLinkedTokenSource(ct);
        inFlight.AddOrUpdate(uri, mine, (_, previous) =>
        {
            if (previous != mine)
                try { previous.Cancel(); } catch (ObjectDisposedException) { } // it finished meanwhile
            return mine;
        });
        return RunAsync(uri, text, offset, languageId, Math.Max(1, candidates), repo, mine, ct);
    }

    /// <summary>Forgets what was shown for <paramref name="uri"/> (the document closed).</summary>
    public void Forget(string uri) => shown.TryRemove(uri, out _);

    private async Task<CompletionOutcome> RunAsync(string uri, string text, int offset, string languageId, int candidates, RepoContextRequest? repo,
        CancellationTokenSource mine, CancellationToken clientCt)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            // Leave StreamJsonRpc's non-concurrent context (Task.Yield would post back onto it): prompt building and
            // generation run for tens of milliseconds, and must not hold up the dispatch of $/cancelRequest or didChange.
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            var ctx = CursorContext.Create(text, offset);
            if (shown.TryGetValue(uri, out var before) && before.Asked >= candidates && before.After(ctx.Prefix, ctx.Suffix) is { } rest)
            {
                Interlocked.Increment(ref continued);
                shown[uri] = before with { Prefix = ctx.Prefix, Suffix = ctx.Suffix, Items = rest };
                log.Debug($"completion {uri} continued {rest.Count} shown {clock.Elapsed.TotalMilliseconds:F0} ms: {Preview(rest[0].InsertText)}");
                return new CompletionOutcome(rest, false, false, clock.Elapsed.TotalMilliseconds) { Continued = true };
            }
            var (items, cached) = await GenerateAsync(uri, ctx, languageId, candidates, repo, text, offset, mine.Token);
            if (items.Count > 0) shown[uri] = new ShownCompletion(ctx.Prefix, ctx.Suffix, items, candidates);
            else shown.TryRemove(uri, out _);
            log.Debug($"completion {uri} mode={ctx.Mode} cached={cached} items={items.Count} {clock.Elapsed.TotalMilliseconds:F0} ms: {Preview(items.FirstOrDefault()?.InsertText)}");
            return new CompletionOutcome(items, cached, false, clock.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (!clientCt.IsCancellationRequested)
        {
            Interlocked.Increment(ref superseded);
            return new CompletionOutcome([], false, true, clock.Elapsed.TotalMilliseconds);
        }
        catch (Engine.BackendException e)
        {
            // A remote model that is down or refuses: the editor shows nothing, as when the model has nothing to say;
            // the next keystroke tries again.
            log.Warn($"completion {uri}: {e.Message}");
            return new CompletionOutcome([], false, false, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            inFlight.TryRemove(new KeyValuePair<string, CancellationTokenSource>(uri, mine));
            mine.Dispose();
        }
    }

    /// <summary>The greedy item, then the distinct sampled ones up to <paramref name="candidates"/>; true when no model ran.</summary>
    private async Task<(List<ShapedCompletion> Items, bool Cached)> GenerateAsync(string uri, CursorContext ctx, string languageId, int candidates,
        RepoContextRequest? repo, string text, int offset, CancellationToken ct)
    {
        var s = Settings;
        var options = new EngineOptions(s.MaxNewTokens, s.Temperature, s.FimFormat, s.ContextBudget, s.PrefixShare) { RepoContextTokens = s.RepoContext ? s.RepoContextTokens : 0 };
        var around = CompletionPrompt.Around(ctx, LanguageTable.FromLspId(languageId));
        if (repo != null && options.RepoContextTokens > 0)
            around = around with { Context = repo.Rank(text, offset), Path = repo.Path, Repo = repo.Repo };
        var prompt = engine.Fit(around, options);
        if (prompt.Context.Count > 0) log.Debug($"context {uri}: {string.Join(", ", prompt.Context.Select(c => c.Path))}");
        bool Stop(string soFar) => CompletionShaper.ShouldStop(ctx, soFar);
        var (raw, cached) = await RunModelAsync(CompletionCacheKey.Of(prompt, options, ctx.Mode),
            () => [engine.Complete(prompt, options, Stop, ct)], ct);
        var items = new List<ShapedCompletion>(candidates);
        Add(items, CompletionShaper.Shape(ctx, raw[0]), candidates);
        if (candidates > 1)
        {
            // One extra sample per missing item, plus one: samples that shape to the greedy item or to each other are dropped.
            var extra = options with { Temperature = s.CandidateTemperature, TopP = 0.95f };
            var n = candidates;
            var (samples, samplesCached) = await RunModelAsync(CompletionCacheKey.Of(prompt, extra, ctx.Mode) + "|n=" + n,
                () => engine.Sample(prompt, extra, n, Stop, ct), ct);
            foreach (var sample in samples) Add(items, CompletionShaper.Shape(ctx, sample), candidates);
            cached &= samplesCached;
        }
        return (items, cached);
    }

    private static void Add(List<ShapedCompletion> items, ShapedCompletion? item, int most)
    {
        if (item != null && items.Count < most && !items.Contains(item)) items.Add(item);
    }

    /// <summary>The cached raw middles for <paramref name="key"/>, or <paramref name="generate"/>'s, one generation at a time.</summary>
    private async Task<(string[] Raw, bool Cached)> RunModelAsync(string key, Func<IReadOnlyList<string>> generate, CancellationToken ct)
    {
        if (Cache.TryGet(key, out var raw)) { Interlocked.Increment(ref cacheHits); return (raw, true); }
        await modelGate.WaitAsync(ct);
        try
        {
            ct.ThrowIfCancellationRequested();
            raw = [.. generate()];
        }
        finally { modelGate.Release(); }
        Interlocked.Increment(ref generated);
        Cache.Add(key, raw);
        return (raw, false);
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

/// <summary>
/// Where a document sits in its repository (<paramref name="Repo"/>, the workspace folder's name; <paramref name="Path"/>,
/// its path there) and how to rank other files for its context, given its text and the cursor offset.
/// </summary>
public sealed record RepoContextRequest(string Repo, string Path, Func<string, int, IReadOnlyList<ContextFile>> Rank);
