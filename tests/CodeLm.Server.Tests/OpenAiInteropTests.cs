using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using CodeLm.Common;
using CodeLm.Model.Generation;
using CodeLm.Server.Http;
using CodeLm.Server.Tests.Support;
using OpenAI;
using OpenAI.Models;

namespace CodeLm.Server.Tests;

/// <summary>
/// The endpoint against clients CodeLm did not write. The official OpenAI .NET SDK (2.x) lists the models with its typed
/// client and sends completions through its own pipeline (its legacy completions client is internal in 2.x, so the
/// request goes through the public <see cref="ClientPipeline"/> the typed clients use: the SDK's authentication, headers
/// and error handling). Continue's and Tabby's request bodies are the ones their sources send for an OpenAI-compatible
/// completion model, as docs/server.md documents their configuration.
/// </summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class OpenAiInteropTests(TinyCheckpoint tiny)
{
    private const string Key = "team-key-1";

    [Fact]
    public async Task OpenAi_sdk_lists_models_and_completes_with_and_without_streaming()
    {
        using var engine = tiny.LoadEngine(reuseKvCache: false);
        var expected = engine.Generate(new TextRequest(TinyCheckpoint.ProbePrefix, "\n", 1, new SamplingOptions(MaxNewTokens: 16) { FimFormat = FimFormat.Spm }), null, default)[0];
        await using var http = await LoopbackHttpServer.StartAsync(engine, new HttpServeOptions { ApiKey = Key, ModelName = "codelm-small" });
        var options = new OpenAIClientOptions { Endpoint = new Uri(http.Server.Address, "/v1") };
        var client = new OpenAIClient(new ApiKeyCredential(Key), options);

        var models = client.GetOpenAIModelClient();
        var list = (await models.GetModelsAsync()).Value;
        Assert.Contains(list, m => m.Id == "codelm-small" && m.OwnedBy == "codelm");
        Assert.Equal("codelm-small", (await models.GetModelAsync("codelm-small")).Value.Id);
        var wrongKey = new OpenAIClient(new ApiKeyCredential("not-the-key"), options).GetOpenAIModelClient();
        Assert.Equal(401, (await Assert.ThrowsAsync<ClientResultException>(() => wrongKey.GetModelsAsync())).Status);

        var body = new { model = "codelm-small", prompt = TinyCheckpoint.ProbePrefix, suffix = "\n", max_tokens = 16, temperature = 0 };
        using (var message = Completions(models.Pipeline, options, body, stream: false))
        {
            await models.Pipeline.SendAsync(message);
            Assert.Equal(200, message.Response!.Status);
            var json = JsonDocument.Parse(message.Response.Content.ToString()).RootElement;
            Assert.Equal(expected.Text, json.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        using (var message = Completions(models.Pipeline, options, body with { }, stream: true))
        {
            await models.Pipeline.SendAsync(message);
            Assert.Equal(200, message.Response!.Status);
            var (texts, finish) = OpenAiWire.Join(await OpenAiWire.EventsAsync(message.Response.ContentStream!));
            Assert.Equal(expected.Text, texts[0]);
            Assert.Equal("length", finish[0]);
        }
    }

    /// <summary>A POST /v1/completions built and sent by the SDK's pipeline, as its typed clients build theirs.</summary>
    private static PipelineMessage Completions(ClientPipeline pipeline, OpenAIClientOptions options, object body, bool stream)
    {
        var message = pipeline.CreateMessage();
        message.BufferResponse = !stream;
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(options.Endpoint!.AbsoluteUri.TrimEnd('/') + "/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        var json = JsonSerializer.SerializeToNode(body)!.AsObject();
        json["stream"] = stream;
        message.Request.Content = BinaryContent.Create(BinaryData.FromString(json.ToJsonString()));
        return message;
    }

    public static TheoryData<string, string> ClientBodies => new()
    {
        // Continue, provider "openai" with useLegacyCompletionsEndpoint: its legacy completions call sends the
        // autocomplete template's prompt (the FIM template docs/server.md gives) with these fields, stream true.
        { "Continue", """
            {"model":"codelm","max_tokens":24,"temperature":0.01,"top_p":null,"frequency_penalty":null,"presence_penalty":null,
             "stream":true,"stop":["<fim_prefix>","<fim_suffix>","<fim_middle>","<|endoftext|>","\n\n","\r\n\r\n","/src/","#- coding: utf-8","```","\ndef","\nclass"],
             "prompt":"<fim_prefix># language: Python\ndef scale(values, factor):\n    result = <fim_suffix>\n<fim_middle>"}
            """ },
        // Tabby, [model.completion.http] kind = "openai/completion": prompt and suffix apart, stream true, its
        // presence penalty, no stop sequences.
        { "Tabby", """
            {"model":"codelm","prompt":"# language: Python\ndef scale(values, factor):\n    result = ","suffix":"\n","max_tokens":24,
             "temperature":0.1,"stream":true,"presence_penalty":0.5}
            """ },
        // Tabby with no text after the cursor sends "suffix": null.
        { "Tabby, no suffix", """
            {"model":"codelm","prompt":"def add(a, b):\n","suffix":null,"max_tokens":24,"temperature":0.1,"stream":true,"presence_penalty":0.0}
            """ },
    };

    [Theory]
    [MemberData(nameof(ClientBodies))]
    public async Task Continue_and_Tabby_request_shapes_are_served(string client, string body)
    {
        using var engine = tiny.LoadEngine();
        await using var http = await LoopbackHttpServer.StartAsync(engine);
        using var response = await http.PostAsync(body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{client}: {await response.Content.ReadAsStringAsync()}");
        var events = await OpenAiWire.EventsAsync(await response.Content.ReadAsStreamAsync());
        Assert.Equal("[DONE]", events[^1]);
        // Tabby stops reading at the first chunk with a finish reason; Continue reads choices[0].text of every chunk.
        var (_, finish) = OpenAiWire.Join(events);
        Assert.Contains(finish[0], new[] { "stop", "length" });
        Assert.All(events.SkipLast(1), e => Assert.Equal(JsonValueKind.String, JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("text").ValueKind));
    }
}
