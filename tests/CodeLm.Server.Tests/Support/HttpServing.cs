using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CodeLm.Model.Generation;
using CodeLm.Server.Http;
using CodeLm.Tests;

namespace CodeLm.Server.Tests.Support;

/// <summary>An <see cref="OpenAiHttpServer"/> on a loopback ephemeral port, with an HttpClient pointed at it.</summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    public OpenAiHttpServer Server { get; }
    public HttpClient Client { get; }
    public StringWriter Log { get; }

    private LoopbackHttpServer(OpenAiHttpServer server, StringWriter log)
    {
        Server = server;
        Log = log;
        // No draining: a response disposed unread closes its connection at once, which is how a client that leaves looks.
        Client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public static async Task<LoopbackHttpServer> StartAsync(ITextGenerator generator, HttpServeOptions? options = null)
    {
        var log = new StringWriter();
        var server = await OpenAiHttpServer.StartAsync(generator, (options ?? new HttpServeOptions()) with { Listen = "127.0.0.1:0" }, new ServerLog(TextWriter.Synchronized(log)));
        return new LoopbackHttpServer(server, log);
    }

    public Task<HttpResponseMessage> PostAsync(string json, CancellationToken ct = default, HttpCompletionOption read = HttpCompletionOption.ResponseContentRead) =>
        Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") }, read, ct);

    public async Task<JsonElement> HealthAsync() => JsonDocument.Parse(await Client.GetStringAsync("/health")).RootElement.Clone();

    /// <summary>Polls /health until <paramref name="done"/> holds, or fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> WaitForHealthAsync(Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var health = await HealthAsync();
            if (done(health)) return health;
            if (clock.Elapsed > timeout) throw new TimeoutException($"/health never got there: {health}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

public static class OpenAiWire
{
    /// <summary>The data payloads of a server-sent event stream, "[DONE]" included, read with .NET's own SSE parser.</summary>
    public static async Task<List<string>> EventsAsync(Stream stream, CancellationToken ct = default)
    {
        var events = new List<string>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(ct)) events.Add(item.Data);
        return events;
    }

    /// <summary>Each choice's text, joined from a stream's chunks (index → text), and each choice's finish reason.</summary>
    public static (Dictionary<int, string> Texts, Dictionary<int, string> Finish) Join(IEnumerable<string> events)
    {
        var texts = new Dictionary<int, string>();
        var finish = new Dictionary<int, string>();
        foreach (var data in events.Where(d => d != "[DONE]"))
            foreach (var choice in JsonDocument.Parse(data).RootElement.GetProperty("choices").EnumerateArray())
            {
                var i = choice.GetProperty("index").GetInt32();
                texts[i] = texts.GetValueOrDefault(i, "") + choice.GetProperty("text").GetString();
                if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String) finish[i] = choice.GetProperty("finish_reason").GetString()!;
            }
        return (texts, finish);
    }

    /// <summary>Asserts the body is OpenAI's error object and returns it.</summary>
    public static async Task<JsonElement> ErrorAsync(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").Clone();
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.True(error.TryGetProperty("param", out _), body);
        Assert.True(error.TryGetProperty("code", out _), body);
        return error;
    }
}

/// <summary>
/// A generator for tests of queueing and cancellation, where what the model says does not matter: each request emits
/// "x" per step every <see cref="StepDelay"/> up to its max tokens, optionally waiting at <see cref="Gate"/> first.
/// </summary>
public sealed class PacedGenerator : ITextGenerator
{
    private int running;
    public SemaphoreSlim? Gate { get; set; }
    public TimeSpan StepDelay { get; set; } = TimeSpan.FromMilliseconds(5);
    public int Running => Volatile.Read(ref running);
    public int ContextLength => 1 << 20;
    public int PromptTokens(string prompt, string? suffix) => prompt.Length + (suffix?.Length ?? 0);

    public IReadOnlyList<Model.Generation.Completion> Generate(TextRequest request, TextCallback? onText, CancellationToken ct)
    {
        Interlocked.Increment(ref running);
        try
        {
            Gate?.Wait(ct);
            var steps = 0;
            for (; steps < request.Sampling.MaxNewTokens && !ct.IsCancellationRequested; steps++)
            {
                for (var i = 0; i < request.N; i++) onText?.Invoke(i, "x");
                ct.WaitHandle.WaitOne(StepDelay);
            }
            var reason = ct.IsCancellationRequested ? FinishReason.Cancelled : FinishReason.Length;
            return Enumerable.Range(0, request.N).Select(_ => new Model.Generation.Completion(new string('x', steps), steps, reason)).ToArray();
        }
        catch (OperationCanceledException)
        {
            return Enumerable.Range(0, request.N).Select(_ => new Model.Generation.Completion("", 0, FinishReason.Cancelled)).ToArray();
        }
        finally { Interlocked.Decrement(ref running); }
    }
}

/// <summary>A spawned `codelm serve --http 127.0.0.1:0` child; its address is read from its log.</summary>
public sealed class HttpServeProcess : ChildServer
{
    private readonly TaskCompletionSource<Uri> address = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HttpServeProcess(string checkpoint, params string[] extraArgs) : base(Start(checkpoint, extraArgs))
    {
        Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data == null) { address.TrySetException(new InvalidOperationException("codelm serve --http exited: " + Stderr)); return; }
            lock (stderr) stderr.AppendLine(e.Data);
            if (Regex.Match(e.Data, @"completions on (http://[^ /]+)/v1") is { Success: true } m) address.TrySetResult(new Uri(m.Groups[1].Value));
        };
        Process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine("stdout: " + e.Data); };
        Process.BeginErrorReadLine();
        Process.BeginOutputReadLine();
    }

    private static ProcessStartInfo Start(string checkpoint, string[] extraArgs)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { CodeLmCli.DllPath, "serve", "--checkpoint", checkpoint, "--http", "127.0.0.1:0" }.Concat(extraArgs)) psi.ArgumentList.Add(a);
        return psi;
    }

    public Task<Uri> AddressAsync() => address.Task.WaitAsync(TimeSpan.FromMinutes(2));
}
