using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CodeLm.Common;
using CodeLm.Model.Generation;
using CodeLm.Server.Http;
using CodeLm.Server.Tests.Support;
using TorchSharp;

namespace CodeLm.Server.Tests;

/// <summary>
/// `codelm serve --http` in process: real Kestrel on a loopback port, the tiny checkpoint's engine behind it. Expected
/// texts come from the same engine called directly, so the endpoint is checked to add nothing and lose nothing.
/// </summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class HttpServingTests(TinyCheckpoint tiny)
{
    private static SamplingOptions Greedy(int maxTokens) => new(MaxNewTokens: maxTokens) { FimFormat = FimFormat.Spm };

    [Fact]
    public async Task Completion_stream_and_samples_match_the_engine()
    {
        using var engine = tiny.LoadEngine(reuseKvCache: false);
        var fim = engine.Generate(new TextRequest(TinyCheckpoint.ProbePrefix, "\n", 1, Greedy(24)), null, default)[0];
        var plain = engine.Generate(new TextRequest("def add(a, b):\n", null, 1, Greedy(12)), null, default)[0];
        var samples = engine.Generate(new TextRequest(TinyCheckpoint.ProbePrefix, "\n", 3, new SamplingOptions(MaxNewTokens: 10, Temperature: 0.8f, Seed: 5) { FimFormat = FimFormat.Spm }), null, default);
        await using var http = await LoopbackHttpServer.StartAsync(engine);

        var body = JsonSerializer.Serialize(new { model = "codelm", prompt = TinyCheckpoint.ProbePrefix, suffix = "\n", max_tokens = 24, temperature = 0 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Request-Id", "test-123");
        using var response = await http.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("test-123", response.Headers.GetValues("X-Request-Id").Single());
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("cmpl-test-123", json.GetProperty("id").GetString());
        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        Assert.Equal("codelm", json.GetProperty("model").GetString());
        var choice = json.GetProperty("choices")[0];
        Assert.Equal(fim.Text, choice.GetProperty("text").GetString());
        Assert.Equal(fim.FinishReason == FinishReason.Length ? "length" : "stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(engine.PromptTokens(TinyCheckpoint.ProbePrefix, "\n"), json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(fim.Tokens, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        // The same request streamed: chunks join to the same text, a finish chunk, usage on request, then [DONE].
        var streamed = JsonSerializer.Serialize(new { prompt = TinyCheckpoint.ProbePrefix, suffix = "\n", max_tokens = 24, temperature = 0, stream = true, stream_options = new { include_usage = true } });
        using (var sse = await http.PostAsync(streamed, read: HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal("text/event-stream", sse.Content.Headers.ContentType?.MediaType);
            var events = await OpenAiWire.EventsAsync(await sse.Content.ReadAsStreamAsync());
            Assert.Equal("[DONE]", events[^1]);
            var (texts, finish) = OpenAiWire.Join(events);
            Assert.Equal(fim.Text, texts[0]);
            Assert.Equal(choice.GetProperty("finish_reason").GetString(), finish[0]);
            Assert.Equal(fim.Tokens, JsonDocument.Parse(events[^2]).RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }

        // A plain prompt (no suffix) continues the text; the FIM template as text (Continue's) is the same FIM request.
        var plainJson = JsonDocument.Parse(await (await http.PostAsync(JsonSerializer.Serialize(new { prompt = "def add(a, b):\n", max_tokens = 12, temperature = 0 }))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(plain.Text, plainJson.GetProperty("choices")[0].GetProperty("text").GetString());
        var template = "<fim_prefix>" + TinyCheckpoint.ProbePrefix + "<fim_suffix>\n<fim_middle>";
        var templated = JsonDocument.Parse(await (await http.PostAsync(JsonSerializer.Serialize(new { prompt = template, max_tokens = 24, temperature = 0 }))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(fim.Text, templated.GetProperty("choices")[0].GetProperty("text").GetString());

        // n samples decode as one batch; with a seed they are the engine's samples, index by index.
        var n3 = JsonDocument.Parse(await (await http.PostAsync(JsonSerializer.Serialize(new { prompt = TinyCheckpoint.ProbePrefix, suffix = "\n", max_tokens = 10, temperature = 0.8, n = 3, seed = 5 }))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(samples.Select(s => s.Text), n3.GetProperty("choices").EnumerateArray().OrderBy(c => c.GetProperty("index").GetInt32()).Select(c => c.GetProperty("text").GetString()));

        var models = JsonDocument.Parse(await http.Client.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Equal("codelm", models.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(engine.ContextLength, models.GetProperty("data")[0].GetProperty("max_model_len").GetInt32());
        var health = await http.HealthAsync();
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(0, health.GetProperty("active_generations").GetInt32());
        Assert.Contains("request_id=test-123", http.Log.ToString());
    }

    [Fact]
    public async Task Bad_input_gets_an_openai_error_with_its_status_and_the_server_keeps_serving()
    {
        using var engine = tiny.LoadEngine();
        await using var http = await LoopbackHttpServer.StartAsync(engine, new HttpServeOptions { MaxRequestBytes = 64 * 1024 });
        var longPrompt = string.Concat(Enumerable.Repeat("result = scale(values, factor)\n", 200));
        (string Body, int Status, string? Param, string? Code)[] cases =
        [
            ("{\"prompt\": \"x\", ", 400, null, "invalid_json"),
            ("[1, 2]", 400, null, null),
            ("{\"prompt\": \"x\", \"max_tokens\": 4, \"frobnicate\": true}", 400, "frobnicate", "unknown_parameter"),
            ("{\"max_tokens\": 4}", 400, "prompt", "missing_required_parameter"),
            ("{\"prompt\": 42}", 400, "prompt", "invalid_type"),
            (JsonSerializer.Serialize(new { prompt = longPrompt, max_tokens = 4 }), 400, "prompt", "context_length_exceeded"),
            ("{\"prompt\": \"x\", \"max_tokens\": -5}", 400, "max_tokens", "invalid_value"),
            ("{\"prompt\": \"x\", \"max_tokens\": 0}", 400, "max_tokens", "invalid_value"),
            ("{\"prompt\": \"x\", \"max_tokens\": 100000000000}", 400, "max_tokens", "context_length_exceeded"),
            ("{\"prompt\": \"x\", \"max_tokens\": 1000}", 400, "max_tokens", "context_length_exceeded"),
            ("{\"prompt\": \"x\", \"n\": 9}", 400, "n", "invalid_value"),
            ("{\"prompt\": \"x\", \"n\": 0}", 400, "n", "invalid_value"),
            ("{\"prompt\": \"x\", \"temperature\": \"hot\"}", 400, "temperature", "invalid_type"),
            ("{\"prompt\": \"x\", \"top_p\": 0}", 400, "top_p", "invalid_value"),
            ("{\"prompt\": \"x\", \"echo\": true}", 400, "echo", null),
            ("{\"prompt\": \"x\", \"logprobs\": 3}", 400, "logprobs", null),
            ("{\"prompt\": [\"a\", \"b\"]}", 400, "prompt", null),
            ("{\"prompt\": \"x\", \"stop\": [\"a\", 1]}", 400, "stop", "invalid_type"),
            ("{\"model\": \"gpt-4\", \"prompt\": \"x\"}", 404, "model", "model_not_found"),
            (JsonSerializer.Serialize(new { prompt = new string('x', 70 * 1024) }), 413, null, "request_too_large"),
        ];
        foreach (var (body, status, param, code) in cases)
        {
            using var response = await http.PostAsync(body);
            var error = await OpenAiWire.ErrorAsync(response, status);
            if (param != null) Assert.Equal(param, error.GetProperty("param").GetString());
            if (code != null) Assert.Equal(code, error.GetProperty("code").GetString());
        }
        using (var missing = await http.Client.GetAsync("/v1/engines"))
            Assert.Equal("unknown_url", (await OpenAiWire.ErrorAsync(missing, 404)).GetProperty("code").GetString());
        using (var unknownModel = await http.Client.GetAsync("/v1/models/gpt-4"))
            await OpenAiWire.ErrorAsync(unknownModel, 404);

        using var ok = await http.PostAsync("{\"prompt\": \"def f():\\n\", \"max_tokens\": 4, \"temperature\": 0, \"user\": \"u1\", \"presence_penalty\": 0.5, \"logprobs\": null, \"stop\": \"\\n\\n\"}");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(0, (await http.HealthAsync()).GetProperty("failed").GetInt32());
    }

    [Fact]
    public async Task A_client_that_disconnects_stops_its_generation()
    {
        using var engine = tiny.LoadEngine();
        await using var http = await LoopbackHttpServer.StartAsync(engine);
        // The probe prompt runs the whole 200 tokens on one line, long enough to leave in the middle of (tens of
        // milliseconds on this model). On a starved machine it can finish before the client is seen to leave, so try a
        // few times; at least one must be cut short, and none may run on after its client (active returns to 0).
        var stoppedEarly = 0;
        for (var attempt = 0; attempt < 10 && stoppedEarly == 0; attempt++)
        {
            var before = (await http.HealthAsync()).GetProperty("tokens_generated").GetInt64();
            using (var cts = new CancellationTokenSource())
            {
                var body = JsonSerializer.Serialize(new { prompt = TinyCheckpoint.ProbePrefix, suffix = "\n", max_tokens = TinyCheckpoint.LongRun, temperature = 0, stream = true });
                // Headers come back once the request is queued; leave then, while it decodes.
                using var response = await http.PostAsync(body, cts.Token, HttpCompletionOption.ResponseHeadersRead);
                cts.Cancel();
            }
            var health = await http.WaitForHealthAsync(h => h.GetProperty("active_generations").GetInt32() == 0 && h.GetProperty("queued").GetInt32() == 0, TimeSpan.FromSeconds(30));
            if (health.GetProperty("tokens_generated").GetInt64() - before < TinyCheckpoint.LongRun) stoppedEarly++;
        }
        var final = await http.HealthAsync();
        Assert.True(stoppedEarly == 1, final.ToString() + "\n" + http.Log);
        Assert.True(final.GetProperty("cancelled").GetInt32() >= 1, final.ToString());
    }

    [Fact]
    public async Task Slow_clients_are_cut_off_while_the_server_keeps_serving()
    {
        using var engine = tiny.LoadEngine();
        await using var http = await LoopbackHttpServer.StartAsync(engine,
            new HttpServeOptions { HeadersTimeout = TimeSpan.FromSeconds(1), MinBodyBytesPerSecond = 100, BodyGracePeriod = TimeSpan.FromSeconds(2) });
        var port = http.Server.Address.Port;

        // Headers that never end, and a body that trickles one byte while promising a kilobyte.
        using var headers = new TcpClient();
        await headers.ConnectAsync(IPAddress.Loopback, port);
        await headers.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\n"));
        using var body = new TcpClient();
        await body.ConnectAsync(IPAddress.Loopback, port);
        await body.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"));

        // Meanwhile others are served.
        using (var ok = await http.PostAsync("{\"prompt\": \"def f():\\n\", \"max_tokens\": 4}"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        // Kestrel answers slow headers itself (408, no body) before any of our code runs; a slow body reaches the
        // endpoint as a read that fails, which it answers with the error object.
        var slowHeaders = await ReadUntilClosedAsync(headers, TimeSpan.FromSeconds(20));
        Assert.True(slowHeaders.Length == 0 || slowHeaders.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), slowHeaders);
        var slowBody = await ReadUntilClosedAsync(body, TimeSpan.FromSeconds(20));
        Assert.StartsWith("HTTP/1.1 408", slowBody, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"request_timeout\"", slowBody, StringComparison.Ordinal);
        using var after = await http.PostAsync("{\"prompt\": \"def f():\\n\", \"max_tokens\": 4}");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>What the server sent before closing the connection (it must close it within <paramref name="timeout"/>).</summary>
    private static async Task<string> ReadUntilClosedAsync(TcpClient client, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, cts.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (IOException) { } // reset by the server: closed too
        return Encoding.ASCII.GetString(received.ToArray());
    }
}

/// <summary>
/// Different prompts decoded as one batch through the engine and the queue. The engine's batched step runs other kernels
/// than a lone row's (threads, the attention mask), so on a random-weight model whose logits are nearly flat a row may
/// flip a near-tie and go its own way; these tests hold the batch to what is exact (the first token, from the row's own
/// prefill; the bookkeeping) and to agreement for most rows. Exactness of the padding and positions is checked in
/// float64, where rounding cannot flip a token (<see cref="BatchedDecodingExactTests"/>).
/// </summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class BatchedDecodingTests(TinyCheckpoint tiny)
{
    private static TextRequest Fim(string prefix, string? suffix, int maxTokens, float temperature = 0, long seed = 0) =>
        new(prefix, suffix, 1, new SamplingOptions(MaxNewTokens: maxTokens, Temperature: temperature, Seed: seed) { FimFormat = FimFormat.Spm });

    private static readonly TextRequest[] Requests =
    [
        Fim(TinyCheckpoint.ProbePrefix, "\n", 24),
        Fim("# language: Python\ndef add(a, b):\n    return ", "\n\nprint(add(1, 2))\n", 9),
        Fim("x = 1\n", null, 16),
        Fim("# language: C#\npublic static int Twice(int x) => ", ";\n", 20, temperature: 0.8f, seed: 3),
    ];

    /// <summary>
    /// Same first token (exact: it comes from the row's own prefill). Later tokens are not compared here: in float32 a
    /// step of four rows rounds differently from a step of one (and MKL picks its threads by the machine's load), which
    /// flips near-ties of this small model; <see cref="BatchedDecodingExactTests"/> checks them token for token in float64.
    /// </summary>
    private static void AssertAgree(IReadOnlyList<Model.Generation.Completion> expected, IReadOnlyList<Model.Generation.Completion> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.Equal(expected[i].TokenIds.Take(1), actual[i].TokenIds.Take(1));
    }

    [Fact]
    public void A_batch_of_different_prompts_decodes_each_as_it_decodes_alone()
    {
        using var engine = tiny.LoadEngine(reuseKvCache: false);
        var finished = new List<(int Index, Model.Generation.Completion Result)>();
        var together = engine.GenerateBatch(Requests.Select(r => (r, (Model.Generation.TextCallback?)null, CancellationToken.None)).ToArray(), (i, c) => finished.Add((i, c)));
        var alone = Requests.Select(r => engine.GenerateBatch([(r, null, CancellationToken.None)])[0]).ToArray();
        AssertAgree(alone, together);
        AssertAgree(Requests.Select(r => engine.Generate(r, null, default)[0]).ToArray(), together); // the one-prompt decoding loop
        // Each row is handed over once, as it ends, with what the batch returns for it.
        Assert.Equal(Enumerable.Range(0, Requests.Length), finished.Select(f => f.Index).Order());
        foreach (var (i, result) in finished) Assert.Equal(together[i].Text, result.Text);

        // A row whose client left ends there; the others go on. The client leaves at the row's first token: that one is
        // exact (its own prefill), so the row cannot have ended on a flipped end-of-text before the cancel lands.
        using var cts = new CancellationTokenSource();
        var withCancel = engine.GenerateBatch(Requests.Select((r, i) => (r, i == 0 ? (Model.Generation.TextCallback?)((_, _) => { cts.Cancel(); return false; }) : null,
            i == 0 ? cts.Token : CancellationToken.None)).ToArray());
        Assert.Equal(1, withCancel[0].Tokens);
        Assert.Equal(Model.Generation.FinishReason.Cancelled, withCancel[0].FinishReason);
        Assert.True(withCancel[0].Tokens < alone[0].Tokens);
        Assert.All(withCancel.Skip(1), c => Assert.NotEqual(Model.Generation.FinishReason.Cancelled, c.FinishReason));
        Assert.Equal(alone.Skip(1).Select(a => a.TokenIds.Take(1).ToArray()), withCancel.Skip(1).Select(t => t.TokenIds.Take(1).ToArray()));
    }

    [Fact]
    public async Task Requests_arriving_while_a_batch_decodes_join_it()
    {
        using var engine = tiny.LoadEngine();
        // On the CPU the engine prefers one request at a time (batching measured slower there): ask for batches.
        await using var http = await LoopbackHttpServer.StartAsync(engine, new HttpServeOptions { MaxBatch = 8 });
        string Body(TextRequest r, bool stream) => JsonSerializer.Serialize(new
        {
            prompt = r.Prompt, suffix = r.Suffix, max_tokens = r.Sampling.MaxNewTokens, temperature = r.Sampling.Temperature, seed = r.Sampling.Seed, stream,
        });
        // A long request first; the others arrive while it decodes and join its batch between two steps. Its 200 tokens
        // take tens of milliseconds, so it may be over before the others arrive (then they batch among themselves, and
        // nobody joins): try again.
        for (var attempt = 0; attempt < 10 && (await http.HealthAsync()).GetProperty("joined_requests").GetInt32() == 0; attempt++)
        {
            var answered = (await http.HealthAsync()).GetProperty("completed").GetInt32();
            var head = http.PostAsync(Body(Fim(TinyCheckpoint.ProbePrefix, "\n", TinyCheckpoint.LongRun), false));
            await http.WaitForHealthAsync(h => h.GetProperty("active_generations").GetInt32() == 1 || h.GetProperty("completed").GetInt32() > answered,
                TimeSpan.FromSeconds(30));
            var rest = Requests.Select((r, i) => http.PostAsync(Body(r, stream: i % 2 == 1))).ToArray();
            (await head).Dispose();
            for (var i = 0; i < rest.Length; i++)
            {
                using var response = await rest[i];
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var text = i % 2 == 1
                    ? OpenAiWire.Join(await OpenAiWire.EventsAsync(await response.Content.ReadAsStreamAsync())).Texts.GetValueOrDefault(0, "")
                    : JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
                Assert.NotNull(text);
            }
        }
        var health = await http.HealthAsync();
        Assert.True(health.GetProperty("batches").GetInt32() >= 1, health.ToString());
        Assert.True(health.GetProperty("batched_requests").GetInt32() >= 2, health.ToString());
        Assert.True(health.GetProperty("joined_requests").GetInt32() >= 1, health.ToString());
        Assert.Equal(0, health.GetProperty("active_generations").GetInt32());
    }
}

/// <summary>
/// <see cref="Model.Generation.Generator.DecodeBatch"/> against <see cref="Model.Generation.Generator.Decode"/> token for
/// token, in float64 (rounding cannot flip a token there), for both position schemes: learned positions with full
/// heads, and rotary positions with grouped key/value heads.
/// </summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class BatchedDecodingExactTests(TinyCheckpoint tiny)
{
    /// <summary>A small random model on the tiny checkpoint's tokenizer, in float64: learned positions and full heads, or rotary with grouped heads.</summary>
    private (Model.Gpt Model, Model.Generation.Generator Generator) Float64Model(bool rotary, int context, int seed)
    {
        var tokenizer = Tokenizer.CodeTokenizer.Load(Model.Checkpoint.TokenizerDirOf(tiny.Dir));
        TorchSharp.torch.manual_seed(seed);
        var config = new Model.GptConfig(tokenizer.VocabSize, ContextLength: context, Layers: 2, Heads: 4, Embedding: 64);
        if (rotary) config = config.AsLlama() with { KvHeads = 2 };
        var model = new Model.Gpt(config);
        model.eval();
        model.to(TorchSharp.torch.ScalarType.Float64);
        return (model, new Model.Generation.Generator(model, tokenizer, TorchSharp.torch.CPU));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rows_of_different_lengths_decode_token_for_token_as_alone(bool rotary)
    {
        var (model, generator) = Float64Model(rotary, 256, seed: 11);
        using var _ = model;
        using var __ = generator;
        var greedy = new SamplingOptions(MaxNewTokens: 20);
        var sampled = new SamplingOptions(MaxNewTokens: 12, Temperature: 0.9f, TopP: 0.9f, Seed: 4);
        (string Prompt, SamplingOptions Options)[] prompts =
        [
            ("def scale(values, factor):\n    return ", greedy), ("x = ", greedy),
            ("# language: Python\nimport os\n\nclass Store:\n    def __init__(self, root):\n        self.root = ", sampled),
        ];
        var ids = prompts.Select(p => generator.BuildPrompt(p.Prompt, p.Options)).ToArray();
        var together = generator.DecodeBatch(ids.Select((i, k) => new Model.Generation.BatchPrompt(i, prompts[k].Options)).ToArray());
        var alone = ids.Select((i, k) => generator.Decode(i, 1, prompts[k].Options, null)[0]).ToArray();
        Assert.Equal(alone.Select(a => a.TokenIds.ToArray()), together.Select(t => t.TokenIds.ToArray()));
        Assert.Equal(alone.Select(a => a.FinishReason), together.Select(t => t.FinishReason));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Prompts_that_join_a_running_batch_decode_token_for_token_as_alone(bool rotary)
    {
        var (model, generator) = Float64Model(rotary, 128, seed: 13);
        using var _ = model;
        using var __ = generator;
        var greedy = new SamplingOptions(MaxNewTokens: 16);
        var sampled = new SamplingOptions(MaxNewTokens: 10, Temperature: 0.9f, TopP: 0.9f, Seed: 8);
        var first = generator.BuildPrompt("def scale(values, factor):\n    return ", greedy);
        // Joiners: two at the third round of offers, one with a long prompt at the sixth, and one that can never fit
        // beside the others in the 128-position context (it must be left in the queue).
        var joiners = new List<(int Round, int[] Ids, SamplingOptions Options)>
        {
            (3, generator.BuildPrompt("x = ", greedy), greedy),
            (3, generator.BuildPrompt("import os\n\nclass Store:\n    def __init__(self, root):\n        self.root = ", sampled), sampled),
            (6, generator.BuildPrompt("# language: Python\nfor item in items:\n    if item.ready:\n        total += item.size\n    else:\n        ", greedy), greedy),
            (6, Enumerable.Repeat(generator.BuildPrompt("a", greedy)[^1], 120).ToArray(), greedy),
        };
        var finished = new Dictionary<int, Model.Generation.Completion>();
        int round = 0, next = 0;
        bool Offer(Func<Model.Generation.BatchPrompt, bool> take)
        {
            if (next < joiners.Count && joiners[next].Round <= round)
            {
                int k = next;
                if (take(new Model.Generation.BatchPrompt(joiners[k].Ids, joiners[k].Options, OnFinished: c => finished[k] = c))) { next++; return true; }
            }
            round++;
            return false;
        }
        var together = generator.DecodeBatch([new Model.Generation.BatchPrompt(first, greedy)], Offer);

        Assert.Equal(3, next); // the fourth never fits
        Assert.Equal([0, 1, 2], finished.Keys.Order());
        var alone = generator.Decode(first, 1, greedy, null)[0];
        Assert.Equal(alone.TokenIds.ToArray(), together[0].TokenIds.ToArray());
        for (int k = 0; k < 3; k++)
        {
            var expected = generator.Decode(joiners[k].Ids, 1, joiners[k].Options, null)[0];
            Assert.Equal(expected.TokenIds.ToArray(), finished[k].TokenIds.ToArray());
            Assert.Equal(expected.FinishReason, finished[k].FinishReason);
        }
    }
}
