using System.Net;
using System.Text.Json;
using CodeLm.Server.Http;
using CodeLm.Server.Tests.Support;

namespace CodeLm.Server.Tests;

/// <summary>The endpoint's queue, key and cancellation with a paced stand-in for the model, so timing is in the test's hands.</summary>
public sealed class HttpQueueTests
{
    private const string Request = "{\"prompt\": \"x\", \"max_tokens\": 5}";

    [Fact]
    public async Task Past_the_queue_limit_requests_get_429_with_retry_after()
    {
        using var gate = new SemaphoreSlim(0);
        var model = new PacedGenerator { Gate = gate };
        await using var http = await LoopbackHttpServer.StartAsync(model, new HttpServeOptions { QueueLimit = 2 });
        var running = http.PostAsync(Request);
        await http.WaitForHealthAsync(h => h.GetProperty("active_generations").GetInt32() == 1, TimeSpan.FromSeconds(30));
        var waiting = new[] { http.PostAsync(Request), http.PostAsync(Request) };
        await http.WaitForHealthAsync(h => h.GetProperty("queued").GetInt32() == 2, TimeSpan.FromSeconds(30));

        using (var refused = await http.PostAsync(Request))
        {
            var error = await OpenAiWire.ErrorAsync(refused, 429);
            Assert.Equal("queue_full", error.GetProperty("code").GetString());
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), refused.Headers.ToString());
        }
        gate.Release(3);
        foreach (var response in await Task.WhenAll(waiting.Prepend(running)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("xxxxx", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
            response.Dispose();
        }
        var health = await http.HealthAsync();
        Assert.Equal(3, health.GetProperty("completed").GetInt32());
        Assert.Equal(1, health.GetProperty("rejected").GetInt32());
    }

    [Fact]
    public async Task An_api_key_is_required_when_configured()
    {
        await using var http = await LoopbackHttpServer.StartAsync(new PacedGenerator(), new HttpServeOptions { ApiKey = "s3cret-key" });
        using (var none = await http.PostAsync(Request))
            Assert.Equal("invalid_api_key", (await OpenAiWire.ErrorAsync(none, 401)).GetProperty("code").GetString());
        foreach (var wrong in new[] { "Bearer s3cret-kez", "Bearer s3cret-key-and-more", "Basic s3cret-key", "Bearer " })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
            request.Headers.TryAddWithoutValidation("Authorization", wrong);
            using var response = await http.Client.SendAsync(request);
            await OpenAiWire.ErrorAsync(response, 401);
        }
        http.Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret-key");
        using (var ok = await http.PostAsync(Request)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        http.Client.DefaultRequestHeaders.Authorization = null;
        Assert.Equal("ok", (await http.HealthAsync()).GetProperty("status").GetString()); // probes need no key
    }

    [Fact]
    public async Task Disconnected_clients_cancel_queued_and_running_generations()
    {
        var model = new PacedGenerator { StepDelay = TimeSpan.FromMilliseconds(20) };
        await using var http = await LoopbackHttpServer.StartAsync(model, new HttpServeOptions { QueueLimit = 8 });
        using var cts = new CancellationTokenSource();
        var body = "{\"prompt\": \"x\", \"max_tokens\": 100000, \"stream\": true}";
        var streams = Enumerable.Range(0, 4).Select(_ => http.PostAsync(body, cts.Token, HttpCompletionOption.ResponseHeadersRead)).ToArray();
        await http.WaitForHealthAsync(h => h.GetProperty("active_generations").GetInt32() == 1 && h.GetProperty("queued").GetInt32() == 3, TimeSpan.FromSeconds(30));
        cts.Cancel();
        foreach (var s in streams)
            try { (await s).Dispose(); } catch (OperationCanceledException) { }
        var health = await http.WaitForHealthAsync(h => h.GetProperty("active_generations").GetInt32() == 0 && h.GetProperty("queued").GetInt32() == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, model.Running);
        Assert.Equal(4, health.GetProperty("cancelled").GetInt32());
        Assert.True(health.GetProperty("tokens_generated").GetInt64() < 100000);
    }

    [Fact]
    public async Task A_soak_of_mixed_and_abandoned_requests_leaves_nothing_running()
    {
        var model = new PacedGenerator { StepDelay = TimeSpan.FromMilliseconds(1) };
        await using var http = await LoopbackHttpServer.StartAsync(model, new HttpServeOptions { QueueLimit = 64 });
        var random = new Random(7);
        var plan = Enumerable.Range(0, 400).Select(i => (Stream: random.Next(2) == 0, CancelAfterMs: random.Next(3) == 0 ? random.Next(1, 30) : -1, Tokens: random.Next(1, 40))).ToArray();
        var ok = 0;
        await Parallel.ForEachAsync(plan, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (p, _) =>
        {
            using var cts = new CancellationTokenSource();
            if (p.CancelAfterMs > 0) cts.CancelAfter(p.CancelAfterMs);
            try
            {
                using var response = await http.PostAsync($"{{\"prompt\": \"x\", \"max_tokens\": {p.Tokens}, \"stream\": {(p.Stream ? "true" : "false")}}}", cts.Token);
                await response.Content.ReadAsStringAsync(cts.Token);
                if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref ok);
            }
            catch (OperationCanceledException) { }
            catch (HttpRequestException) { }
        });
        var health = await http.WaitForHealthAsync(h => h.GetProperty("active_generations").GetInt32() == 0 && h.GetProperty("queued").GetInt32() == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, model.Running);
        Assert.True(ok >= plan.Count(p => p.CancelAfterMs < 0) / 2, $"{ok} answered; {health}");
        Assert.Equal(0, health.GetProperty("failed").GetInt32());
    }

    /// <summary>
    /// A client that holds its answer is counted out of the active generations and into the completed ones, even while
    /// the rest of its batch still decodes (a health check right after an answer used to see the whole batch active).
    /// </summary>
    [Fact]
    public async Task An_answered_request_no_longer_counts_as_active_while_its_batch_goes_on()
    {
        var model = new TwoRowBatch();
        using var queue = new GenerationQueue(model, limit: 4, maxBatch: 2);
        TextRequest Request(string prompt) => new(prompt, null, 1, new Model.Generation.SamplingOptions(MaxNewTokens: 1));
        var hold = queue.TryEnqueue(Request("hold"), null, default)!;
        while (queue.Active == 0) await Task.Delay(5);
        var first = queue.TryEnqueue(Request("a"), null, default)!;
        var second = queue.TryEnqueue(Request("b"), null, default)!;
        model.Hold.Release(); // the two waiting behind it now decode as one batch
        await hold.Done.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("a", (await first.Done.WaitAsync(TimeSpan.FromSeconds(30)))[0].Text);
        Assert.Equal((1, 2L), (queue.Active, queue.Completed));
        model.Rest.Release();
        Assert.Equal("b", (await second.Done.WaitAsync(TimeSpan.FromSeconds(30)))[0].Text);
        Assert.Equal((0, 3L, 1L, 2L), (queue.Active, queue.Completed, queue.Batches, queue.BatchedRequests));
    }

    /// <summary>A lone request waits at <see cref="Hold"/>; in a batch of two the first row ends at once, the second at <see cref="Rest"/>.</summary>
    private sealed class TwoRowBatch : ITextGenerator
    {
        public SemaphoreSlim Hold { get; } = new(0);
        public SemaphoreSlim Rest { get; } = new(0);
        public int ContextLength => 64;
        public bool CanBatch => true;
        public int PromptTokens(string prompt, string? suffix) => prompt.Length;

        public IReadOnlyList<Model.Generation.Completion> Generate(TextRequest request, Model.Generation.TextCallback? onText, CancellationToken ct) =>
            throw new InvalidOperationException("with batching on, the queue decodes one-sample requests as batches");

        public IReadOnlyList<Model.Generation.Completion> GenerateBatch(IReadOnlyList<(TextRequest Request, Model.Generation.TextCallback? OnText, CancellationToken Ct)> requests,
            Action<int, Model.Generation.Completion>? finished = null, BatchOffer? offer = null)
        {
            var results = requests.Select(r => new Model.Generation.Completion(r.Request.Prompt, 1, Model.Generation.FinishReason.Length)).ToArray();
            if (results.Length == 1) Hold.Wait();
            finished?.Invoke(0, results[0]);
            if (results.Length == 2) Rest.Wait();
            for (var i = 1; i < results.Length; i++) finished?.Invoke(i, results[i]);
            return results;
        }
    }
}

/// <summary>The remote backend's requests, against a scripted server: what it sends, and that it stops reading when the service says so.</summary>
public sealed class BackendEngineTests
{
    private sealed class Recorder(string answer) : HttpMessageHandler
    {
        public List<(string Path, System.Text.Json.Nodes.JsonNode? Body)> Requests { get; } = [];

        // The engine sends synchronously (its callers are synchronous); a handler must then answer Send itself.
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken ct) => SendAsync(request, ct).GetAwaiter().GetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Requests.Add((request.RequestUri!.AbsolutePath, request.Content is null ? null : System.Text.Json.Nodes.JsonNode.Parse(await request.Content.ReadAsStringAsync(ct))));
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer, System.Text.Encoding.UTF8, "text/event-stream") };
        }
    }

    private static string Sse(params string[] pieces) =>
        string.Concat(pieces.Select(p => "data: " + JsonSerializer.Serialize(new { choices = new[] { new { text = p, index = 0, finish_reason = (string?)null } } }) + "\n\n")) + "data: [DONE]\n\n";

    [Fact]
    public void Sends_prefix_and_suffix_or_the_rendered_template_and_stops_where_the_service_stops()
    {
        var prompt = new CodeLm.Server.Completion.CompletionPrompt("# language: Python\ndef f(x):\n    return ", "\n\nprint(f(2))\n", "Python");
        var options = new CodeLm.Server.Completion.EngineOptions(16, 0);
        var plain = new Recorder(Sse("x", " * 2", "\n", "def g"));
        using (var engine = new CodeLm.Server.Engine.OpenAiBackendEngine(new CodeLm.Server.Engine.BackendOptions(new Uri("http://gpu:8000/v1"), "m"), plain))
            Assert.Equal("x * 2\n", engine.Complete(prompt, options, soFar => soFar.Contains('\n'), default));
        var body = plain.Requests.Single().Body!;
        Assert.Equal("/v1/completions", plain.Requests[0].Path);
        Assert.Equal(prompt.Prefix, (string?)body["prompt"]);
        Assert.Equal(prompt.Suffix, (string?)body["suffix"]);
        Assert.True((bool)body["stream"]!);
        Assert.Equal("m", (string?)body["model"]);

        var vllm = new Recorder(Sse("x"));
        using (var engine = new CodeLm.Server.Engine.OpenAiBackendEngine(new CodeLm.Server.Engine.BackendOptions(new Uri("http://gpu:8000/v1/"), "m") { Fim = CodeLm.Server.Completion.FimTemplate.Parse("qwen") }, vllm))
            Assert.Equal("x", engine.Complete(prompt, options, _ => false, default));
        Assert.Equal("<|fim_prefix|>" + prompt.Prefix + "<|fim_suffix|>" + prompt.Suffix + "<|fim_middle|>", (string?)vllm.Requests.Single().Body!["prompt"]);
        Assert.Null(vllm.Requests[0].Body!["suffix"]);
        Assert.Equal(("a{suffix}b", "s"), CodeLm.Server.Completion.FimTemplate.Split("<fim_prefix>a{suffix}b<fim_suffix>s<fim_middle>"));
        Assert.Null(CodeLm.Server.Completion.FimTemplate.Split("<fim_prefix>a<fim_suffix>s<fim_middle>tail"));
        Assert.Null(CodeLm.Server.Completion.FimTemplate.Parse("no slots"));
    }
}
