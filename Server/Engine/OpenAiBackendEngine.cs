using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Model.Generation;
using CodeLm.Server.Completion;

namespace CodeLm.Server.Engine;

/// <summary>
/// Where `codelm serve --backend` sends its prompts: an OpenAI-compatible completions endpoint (<paramref name="BaseUrl"/>
/// ends in /v1) serving <paramref name="Model"/>. <paramref name="ContextLength"/> 0: read from the server's
/// <c>/v1/models</c> (vLLM's and CodeLm's <c>max_model_len</c>, llama.cpp's <c>meta.n_ctx_train</c>), else 2048.
/// </summary>
public sealed record BackendOptions(Uri BaseUrl, string Model, string? ApiKey = null, int ContextLength = 0)
{
    /// <summary>
    /// How the two sides travel: null, as <c>prompt</c> and <c>suffix</c> (CodeLm, llama.cpp's server); else rendered into
    /// the prompt with the model's sentinels, for servers that refuse <c>suffix</c> (vLLM).
    /// </summary>
    public FimTemplate? Fim { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The context assumed when neither the options nor the server tell it.</summary>
    public const int FallbackContextLength = 2048;
}

/// <summary>The backend failed or refused a request (its status and message, as it worded them).</summary>
public sealed class BackendException(string message, int? status = null, Exception? inner = null) : Exception(message, inner)
{
    public int? Status { get; } = status;
}

/// <summary>
/// The language server's engine when the model runs elsewhere (vLLM, llama.cpp's server, another `codelm serve --http`):
/// each completion is one <c>POST /v1/completions</c> with the prefix as <c>prompt</c> and the text after the cursor as
/// <c>suffix</c>, so the server lays the prompt out in its model's own fill-in-the-middle format (or, for servers that
/// refuse <c>suffix</c>, both rendered into the prompt by <see cref="BackendOptions.Fim"/>). The answer is streamed,
/// so the completion service's stop rule ends it as soon as it has enough (closing the stream cancels the remote
/// generation), exactly where a local model would stop. Without the model's tokenizer, tokens are counted as a third of
/// the UTF-8 bytes: more than code tokenizers give, so a prompt cut to the budget fits the remote context.
/// </summary>
public sealed class OpenAiBackendEngine : ICompletionEngine, IDisposable
{
    private readonly HttpClient http;
    private readonly BackendOptions options;

    public OpenAiBackendEngine(BackendOptions options, HttpMessageHandler? handler = null)
    {
        this.options = options;
        var baseUrl = options.BaseUrl.AbsoluteUri.EndsWith('/') ? options.BaseUrl : new Uri(options.BaseUrl.AbsoluteUri + "/");
        http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { BaseAddress = baseUrl, Timeout = options.Timeout };
        if (options.ApiKey is { } key) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        ContextLength = options.ContextLength > 0 ? options.ContextLength : BackendOptions.FallbackContextLength;
    }

    /// <summary>
    /// An engine for <paramref name="options"/>, its context read from the server when not given. A server that cannot be
    /// reached yet is reported through <paramref name="warn"/>, not thrown: it may come up after the editor.
    /// </summary>
    public static async Task<OpenAiBackendEngine> ConnectAsync(BackendOptions options, Action<string>? warn = null, CancellationToken ct = default)
    {
        var engine = new OpenAiBackendEngine(options);
        if (options.ContextLength > 0) return engine;
        try
        {
            using var response = await engine.http.GetAsync("models", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) throw Failure(response, body);
            var card = JsonNode.Parse(body)?["data"]?.AsArray().FirstOrDefault(m => (string?)m?["id"] == options.Model);
            if (card is null) warn?.Invoke($"{options.BaseUrl} does not list the model '{options.Model}'; its completions may fail");
            else if ((card["max_model_len"] ?? card["meta"]?["n_ctx_train"])?.GetValue<int>() is int n and > 0) engine.ContextLength = n;
        }
        catch (Exception e) when (e is HttpRequestException or BackendException or JsonException or InvalidOperationException or FormatException or TaskCanceledException)
        {
            warn?.Invoke($"backend {options.BaseUrl}: {e.Message}; assuming a {engine.ContextLength}-token context");
        }
        return engine;
    }

    public int ContextLength { get; private set; }

    public string Model => options.Model;

    public Uri BaseUrl => options.BaseUrl;

    public int CountTokens(string text) => (Encoding.UTF8.GetByteCount(text) + 2) / 3;

    /// <summary>The production cut (whole lines under the FIM budget) with counted-by-bytes tokens; repository context is not sent.</summary>
    public CompletionPrompt Fit(CompletionPrompt prompt, EngineOptions options)
    {
        var budget = PromptBudget.FimTokens(ContextLength, options.Sampling(ContextLength));
        var (prefix, suffix) = PromptBudget.SplitFimLines(prompt.Prefix, prompt.Suffix, budget, options.PrefixShare, CountTokens);
        return prompt with { Prefix = prefix, Suffix = suffix, Context = [] };
    }

    public string Complete(CompletionPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct) =>
        Stream(prompt, options, 1, shouldStop, ct)[0];

    public IReadOnlyList<string> Sample(CompletionPrompt prompt, EngineOptions options, int n, Func<string, bool> shouldStop, CancellationToken ct)
    {
        if (options.Temperature <= 0) throw new ArgumentException("sampled candidates need a temperature above 0");
        return Stream(prompt, options, n, shouldStop, ct);
    }

    public string Continue(string prompt, int maxNewTokens, IReadOnlyList<string> stops, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = options.Model, ["prompt"] = prompt, ["max_tokens"] = maxNewTokens, ["temperature"] = 0,
            ["stop"] = new JsonArray([.. stops.Select(s => (JsonNode?)s)]),
        };
        using var response = Send(body, ct);
        var text = ReadAll(response, ct);
        return JsonNode.Parse(text)?["choices"]?[0]?["text"]?.GetValue<string>() ?? throw new BackendException($"{options.BaseUrl}: a completion without choices[0].text");
    }

    /// <summary>
    /// n middles, streamed; each sample's text stops growing once <paramref name="shouldStop"/> says so, and the stream is
    /// closed when every sample has stopped (or the server ends it). Sample i of a local engine is seeded with i; here the
    /// request carries seed 0, which vLLM and CodeLm honour.
    /// </summary>
    private string[] Stream(CompletionPrompt prompt, EngineOptions engineOptions, int n, Func<string, bool> shouldStop, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["model"] = options.Model, ["max_tokens"] = engineOptions.MaxNewTokens,
            ["temperature"] = engineOptions.Temperature, ["top_p"] = engineOptions.TopP, ["n"] = n, ["stream"] = true, ["seed"] = 0,
        };
        if (options.Fim is { } template) body["prompt"] = template.Render(prompt.Prefix, prompt.Suffix);
        else (body["prompt"], body["suffix"]) = (prompt.Prefix, prompt.Suffix);
        using var response = Send(body, ct);
        var texts = Enumerable.Range(0, n).Select(_ => new StringBuilder()).ToArray();
        var stopped = new bool[n];
        using var reader = new StreamReader(response.Content.ReadAsStream(ct), Encoding.UTF8);
        while (!stopped.All(s => s) && reader.ReadLine() is { } line)
        {
            ct.ThrowIfCancellationRequested();
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var data = line[5..].Trim();
            if (data == "[DONE]") break;
            var chunk = JsonNode.Parse(data);
            if (chunk?["error"] is { } error) throw new BackendException($"{options.BaseUrl}: {error["message"]?.GetValue<string>() ?? error.ToJsonString()}");
            foreach (var choice in chunk?["choices"]?.AsArray() ?? [])
            {
                var i = choice?["index"]?.GetValue<int>() ?? 0;
                var delta = choice?["text"]?.GetValue<string>();
                if (i < 0 || i >= n || stopped[i] || string.IsNullOrEmpty(delta)) continue;
                texts[i].Append(delta);
                stopped[i] = shouldStop(texts[i].ToString());
            }
        }
        ct.ThrowIfCancellationRequested();
        return texts.Select(t => t.ToString()).ToArray();
    }

    private HttpResponseMessage Send(JsonObject body, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        HttpResponseMessage response;
        try { response = http.Send(request, HttpCompletionOption.ResponseHeadersRead, ct); }
        catch (HttpRequestException e) { throw new BackendException($"{options.BaseUrl}: {e.Message}", null, e); }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested) { throw new BackendException($"{options.BaseUrl}: no answer in {options.Timeout.TotalSeconds:F0} s", null, e); }
        if (response.IsSuccessStatusCode) return response;
        using (response) throw Failure(response, ReadAll(response, ct));
    }

    private static string ReadAll(HttpResponseMessage response, CancellationToken ct)
    {
        using var reader = new StreamReader(response.Content.ReadAsStream(ct), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static BackendException Failure(HttpResponseMessage response, string body)
    {
        string? message = null;
        try { message = JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>(); } catch (JsonException) { }
        return new BackendException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {message ?? body.Trim()}", (int)response.StatusCode);
    }

    public void Dispose() => http.Dispose();
}
