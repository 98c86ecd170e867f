using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CodeLm.Model.Generation;
using CodeLm.Server.Completion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CodeLm.Server.Http;

/// <summary>
/// `codelm serve --http`: the OpenAI completions API on Kestrel. <c>POST /v1/completions</c> (plain or fill-in-the-middle
/// with <c>suffix</c>, n samples, stop sequences, server-sent events), <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>
/// and <c>GET /health</c>. Every request gets an id (the client's <c>X-Request-Id</c> when it is a plain token) and one
/// log event. The model work goes through the <see cref="GenerationQueue"/>; this class only reads, checks and words.
/// </summary>
public sealed class OpenAiHttpServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    private readonly WebApplication app;
    private readonly ITextGenerator generator;
    private readonly HttpServeOptions options;
    private readonly ServerLog log;
    private readonly byte[]? keyHash;
    private readonly long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public GenerationQueue Queue { get; }

    /// <summary>Where it listens, e.g. http://127.0.0.1:41234 (the port resolved when 0 was asked for).</summary>
    public Uri Address { get; private set; } = null!;

    private OpenAiHttpServer(ITextGenerator generator, HttpServeOptions options, ServerLog log)
    {
        this.generator = generator;
        this.options = options.Validate();
        this.log = log;
        // Keys are compared as SHA-256 digests with a fixed-time comparison: equal lengths, and no early exit that
        // tells a caller how much of a guess was right.
        keyHash = options.ApiKey is { } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;
        var endpoint = options.Endpoint();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "codelm", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders(); // our own log; ASP.NET's console logger would write to stdout
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(endpoint);
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            k.Limits.RequestHeadersTimeout = options.HeadersTimeout;
            k.Limits.MinRequestBodyDataRate = new MinDataRate(options.MinBodyBytesPerSecond, options.BodyGracePeriod);
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
            // Past the queue a request costs a 429, but each open connection still holds buffers: cap them too, so a
            // flood of idle or slow sockets cannot grow memory without bound.
            k.Limits.MaxConcurrentConnections = 1024;
        });
        app = builder.Build();
        Queue = new GenerationQueue(generator, options.QueueLimit, options.MaxBatch);
        app.Use(Envelope);
        app.MapPost("/v1/completions", Completions);
        app.MapGet("/v1/models", c => Write(c, 200, new ModelList("list", [Card()])));
        app.MapGet("/v1/models/{id}", c => Equals(c.Request.RouteValues["id"] as string, options.ModelName)
            ? Write(c, 200, Card())
            : throw new OpenAiError(404, $"The model '{c.Request.RouteValues["id"]}' does not exist", OpenAiError.InvalidRequest, "model", "model_not_found"));
        app.MapGet("/health", c => Write(c, 200, new
        {
            status = "ok",
            model = options.ModelName,
            queued = Queue.Waiting,
            active_generations = Queue.Active,
            completed = Queue.Completed,
            cancelled = Queue.Cancelled,
            rejected = Queue.Rejected,
            failed = Queue.Failed,
            tokens_generated = Queue.TokensGenerated,
            batches = Queue.Batches,
            batched_requests = Queue.BatchedRequests,
            joined_requests = Queue.JoinedRequests,
        }));
        app.MapFallback(c => throw new OpenAiError(404, $"Unknown request URL: {c.Request.Method} {c.Request.Path}. CodeLm serves POST /v1/completions, GET /v1/models and GET /health.", OpenAiError.InvalidRequest, null, "unknown_url"));
    }

    /// <summary>Binds and starts serving; the model must stay loaded until this is disposed.</summary>
    public static async Task<OpenAiHttpServer> StartAsync(ITextGenerator generator, HttpServeOptions options, ServerLog log, CancellationToken ct = default)
    {
        var server = new OpenAiHttpServer(generator, options, log);
        try
        {
            await server.app.StartAsync(ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        var bound = server.app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal).TrimEnd('/'));
        if (options.ApiKey is null && !IPAddress.IsLoopback(options.Endpoint().Address))
            log.Warn($"listening on {server.Address.AbsoluteUri.TrimEnd('/')} without an API key: anyone who can reach it can use the model (--api-key-file)");
        log.Info($"OpenAI-compatible completions on {server.Address.AbsoluteUri.TrimEnd('/')}/v1 as model '{options.ModelName}' (queue limit {options.QueueLimit}, n at most {options.MaxN}, " +
                 $"batches of up to {server.Queue.MaxBatch} requests, context {generator.ContextLength})");
        return server;
    }

    /// <summary>Completes when the host stops (Ctrl+C is handled by the caller's token).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct) => app.WaitForShutdownAsync(ct);

    private ModelCard Card() => new(options.ModelName, "model", created, "codelm", generator.ContextLength);

    /// <summary>Request id, authentication, errors worded as OpenAI words them, and one log event per request.</summary>
    private async Task Envelope(HttpContext c, RequestDelegate next)
    {
        var clock = Stopwatch.StartNew();
        var id = c.Request.Headers["X-Request-Id"].ToString();
        if (id.Length is 0 or > 64 || !id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.')) id = Guid.NewGuid().ToString("N");
        c.Items[RequestId] = id;
        c.Response.Headers["X-Request-Id"] = id;
        try
        {
            if (keyHash != null && c.Request.Path.StartsWithSegments("/v1") && !Authorized(c.Request))
                throw new OpenAiError(401, "Incorrect API key provided. Send it as 'Authorization: Bearer KEY'.", OpenAiError.InvalidRequest, null, "invalid_api_key");
            await next(c);
        }
        catch (OpenAiError e) { await Fail(c, e); }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) // Kestrel's: body over the limit (413), too slow (408), malformed framing
        {
            var (message, code) = e.StatusCode switch
            {
                413 => ($"The request body is larger than {options.MaxRequestBytes} bytes.", "request_too_large"),
                408 => ($"The request body arrived slower than {options.MinBodyBytesPerSecond} bytes/s.", "request_timeout"),
                _ => (e.Message, (string?)null),
            };
            await Fail(c, new OpenAiError(e.StatusCode, message, OpenAiError.InvalidRequest, null, code));
        }
        catch (OperationCanceledException) when (c.RequestAborted.IsCancellationRequested)
        {
            c.Items[Outcome] = "client_gone";
        }
        catch (Exception e)
        {
            log.Error($"request {id}: {e}");
            await Fail(c, new OpenAiError(500, "The server had an error while processing your request.", "server_error"));
        }
        finally
        {
            var fields = new List<(string, object?)>
            {
                ("request_id", id), ("method", c.Request.Method), ("path", c.Request.Path.Value), ("status", c.Response.StatusCode),
                ("ms", Math.Round(clock.Elapsed.TotalMilliseconds, 1)), ("remote", c.Connection.RemoteIpAddress?.ToString()),
            };
            foreach (var key in LoggedItems)
                if (c.Items.TryGetValue(key, out var value)) fields.Add((key, value));
            log.Event(c.Request.Path.StartsWithSegments("/health") ? LogLevel.Debug : LogLevel.Info, "http", [.. fields]);
        }
    }

    private const string RequestId = "request_id", Outcome = "outcome";
    private static readonly string[] LoggedItems = ["prompt_tokens", "completion_tokens", "n", "stream", "queue_ms", "finish", Outcome, "error"];

    private bool Authorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), keyHash);
    }

    private async Task Completions(HttpContext c)
    {
        CompletionRequest request;
        try
        {
            using var body = await JsonDocument.ParseAsync(c.Request.Body, default, c.RequestAborted);
            request = CompletionRequest.Parse(body.RootElement, options.MaxN);
        }
        catch (JsonException e)
        {
            throw OpenAiError.BadRequest($"We could not parse the JSON body of your request: {e.Message}", null, "invalid_json");
        }
        if (request.Model is { } model && model != options.ModelName)
            throw new OpenAiError(404, $"The model '{model}' does not exist; this server serves '{options.ModelName}'.", OpenAiError.InvalidRequest, "model", "model_not_found");
        if (request.Suffix is null && FimTemplate.Split(request.Prompt) is { } fim) request = request with { Prompt = fim.Prefix, Suffix = fim.Suffix };
        var promptTokens = generator.PromptTokens(request.Prompt, request.Suffix);
        c.Items["prompt_tokens"] = promptTokens;
        c.Items["n"] = request.N;
        c.Items["stream"] = request.Stream;
        if ((long)promptTokens + request.MaxTokens > generator.ContextLength)
            throw OpenAiError.BadRequest($"This model's maximum context length is {generator.ContextLength} tokens, however you requested {(long)promptTokens + request.MaxTokens} tokens " +
                $"({promptTokens} in your prompt; {request.MaxTokens} for the completion). Please reduce your prompt; or completion length.",
                promptTokens >= generator.ContextLength ? "prompt" : "max_tokens", "context_length_exceeded");
        var sampling = new SamplingOptions(MaxNewTokens: request.MaxTokens, Temperature: request.Temperature, TopP: request.TopP,
            StopSequences: request.Stop, Seed: request.Seed ?? Random.Shared.NextInt64(1L << 40)) { FimFormat = options.Fim };
        var text = new TextRequest(request.Prompt, request.Suffix, request.N, sampling) { PromptTokens = promptTokens };
        var id = "cmpl-" + c.Items[RequestId];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (request.Stream) await StreamAsync(c, request, text, id, created, promptTokens);
        else
        {
            var job = Enqueue(c, text, null);
            var results = await job.Done.WaitAsync(c.RequestAborted);
            Done(c, job, results);
            var choices = results.Select((r, i) => new CompletionChoice(r.Text, i, null, Finish(r.FinishReason))).ToArray();
            var used = results.Sum(r => r.Tokens);
            await Write(c, 200, new CompletionResponse(id, "text_completion", created, options.ModelName, choices, new CompletionUsage(promptTokens, used, promptTokens + used)));
        }
    }

    /// <summary>
    /// Server-sent events in OpenAI's shape: a chunk per text piece (per sample, <c>index</c> telling which), a last
    /// chunk per sample with its finish reason, usage when asked for, then <c>data: [DONE]</c>.
    /// </summary>
    private async Task StreamAsync(HttpContext c, CompletionRequest request, TextRequest text, string id, long created, int promptTokens)
    {
        var pieces = Channel.CreateUnbounded<(int Sample, string Text)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var job = Enqueue(c, text, (i, delta) =>
        {
            if (delta.Length > 0) pieces.Writer.TryWrite((i, delta));
            return false;
        });
        _ = job.Done.ContinueWith(_ => pieces.Writer.TryComplete(), TaskScheduler.Default);
        c.Response.StatusCode = 200;
        c.Response.ContentType = "text/event-stream";
        c.Response.Headers.CacheControl = "no-cache";
        c.Response.Headers["X-Accel-Buffering"] = "no"; // nginx in front would otherwise hold the stream back
        await c.Response.StartAsync(c.RequestAborted);
        CompletionResponse Chunk(params CompletionChoice[] choices) => new(id, "text_completion", created, options.ModelName, choices);
        await foreach (var (i, delta) in pieces.Reader.ReadAllAsync(c.RequestAborted))
            await Event(c, Chunk(new CompletionChoice(delta, i, null, null)));
        IReadOnlyList<Model.Generation.Completion> results;
        try { results = await job.Done.WaitAsync(c.RequestAborted); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The status line is gone already: the error travels as an event, as OpenAI sends errors mid-stream.
            log.Error($"request {c.Items[RequestId]}: {e}");
            c.Items["error"] = e.GetType().Name;
            await Data(c, JsonSerializer.Serialize(new OpenAiError(500, "The server had an error while processing your request.", "server_error").Body, Json));
            return;
        }
        Done(c, job, results);
        for (var i = 0; i < results.Count; i++) await Event(c, Chunk(new CompletionChoice("", i, null, Finish(results[i].FinishReason))));
        if (request.IncludeUsage)
        {
            var used = results.Sum(r => r.Tokens);
            await Event(c, Chunk() with { Usage = new CompletionUsage(promptTokens, used, promptTokens + used) });
        }
        await Data(c, "[DONE]");
    }

    private GenerationQueue.Job Enqueue(HttpContext c, TextRequest text, TextCallback? onText)
    {
        if (Queue.TryEnqueue(text, onText, c.RequestAborted) is { } job) return job;
        c.Response.Headers.RetryAfter = Queue.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        throw new OpenAiError(429, $"The server is busy: {Queue.Limit} requests are already waiting. Retry after a moment.", "rate_limit_exceeded", null, "queue_full");
    }

    private static void Done(HttpContext c, GenerationQueue.Job job, IReadOnlyList<Model.Generation.Completion> results)
    {
        c.Items["queue_ms"] = Math.Round(job.QueueMs, 1);
        c.Items["completion_tokens"] = results.Sum(r => r.Tokens);
        c.Items["finish"] = string.Join(',', results.Select(r => Finish(r.FinishReason)));
    }

    /// <summary>OpenAI's finish reasons: "length" when the token budget ended it, else "stop" (stop sequence or end of text).</summary>
    private static string Finish(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";

    private static Task Event<T>(HttpContext c, T chunk) => Data(c, JsonSerializer.Serialize(chunk, Json));

    private static async Task Data(HttpContext c, string payload)
    {
        await c.Response.WriteAsync("data: " + payload + "\n\n", c.RequestAborted);
        await c.Response.Body.FlushAsync(c.RequestAborted);
    }

    private static async Task Fail(HttpContext c, OpenAiError e)
    {
        c.Items["error"] = e.Code ?? e.Type;
        if (c.Response.HasStarted) return;
        await Write(c, e.Status, e.Body);
    }

    private static Task Write<T>(HttpContext c, int status, T body)
    {
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/json";
        return c.Response.WriteAsync(JsonSerializer.Serialize(body, Json), c.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        try { await app.StopAsync(CancellationToken.None); } catch (OperationCanceledException) { }
        Queue.Dispose();
        await app.DisposeAsync();
    }
}
