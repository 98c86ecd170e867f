using CodeLm.Server.Completion;
using CodeLm.Server.Documents;
using CodeLm.Server.Tests.Support;

namespace CodeLm.Server.Tests;

/// <summary>
/// `codelm serve --backend URL --model NAME` (the LSP server with no model of its own) completing through a spawned
/// `codelm serve --http` on the tiny checkpoint, driven over stdio by the same LSP client the end-to-end tests use.
/// </summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class BackendEndToEndTests(TinyCheckpoint tiny)
{
    [Fact]
    public async Task Language_server_with_a_backend_completes_through_codelm_serve_http()
    {
        var offset = EndToEndTests.Document.IndexOf("= \n", StringComparison.Ordinal) + 2;
        var expected = await EndToEndTests.ExpectedAsync(tiny, EndToEndTests.Document, offset, new CompletionSettings { MaxNewTokens = 24 });
        Assert.NotNull(expected);

        var keyFile = Path.GetTempFileName();
        File.WriteAllText(keyFile, "backend-key\n");
        try
        {
            using var http = new HttpServeProcess(tiny.Dir, "--model-name", "tiny", "--api-key-file", keyFile);
            var address = await http.AddressAsync();
            using var server = new ServerProcess(["--backend", new Uri(address, "/v1").AbsoluteUri, "--model", "tiny", "--api-key-file", keyFile]);
            using var client = new LspClient(server.ToServer, server.FromServer);
            await client.StartAsync(new { codelm = new { maxNewTokens = 24 } });
            await client.OpenAsync(EndToEndTests.Uri, "python", EndToEndTests.Document);
            var cursor = TextDocument.PositionOf(EndToEndTests.Document, offset);
            var first = LspClient.FirstInsertText(await client.InlineAsync(EndToEndTests.Uri, cursor.Line, cursor.Character));
            Assert.True(expected.InsertText == first, $"expected '{expected.InsertText}', got '{first}'\nLSP log:\n{server.Stderr}\nHTTP log:\n{http.Stderr}");
            // The same request again is the completion cache's: the backend sees one completion request, not two.
            Assert.Equal(first, LspClient.FirstInsertText(await client.InlineAsync(EndToEndTests.Uri, cursor.Line, cursor.Character)));
            // The request's log line is written when the HTTP server has finished with it, which can be just after the
            // language server stopped reading.
            int Logged() => http.Stderr.Split('\n').Count(l => l.Contains("path=/v1/completions", StringComparison.Ordinal));
            for (var i = 0; i < 100 && Logged() == 0; i++) await Task.Delay(50);
            Assert.Equal(1, Logged());
            Assert.Contains("context 256", server.Stderr); // read from the backend's /v1/models
            await client.RequestAsync("shutdown", null);
            await client.NotifyAsync("exit");
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        finally { File.Delete(keyFile); }
    }

    [Fact]
    public async Task Http_server_stops_cleanly_on_sigterm()
    {
        // What systemd and Kubernetes send: the server finishes, logs its counters and exits 0.
        using var http = new HttpServeProcess(tiny.Dir, "--no-warmup", "--log-json");
        var address = await http.AddressAsync();
        using (var client = new HttpClient { BaseAddress = address })
        using (var response = await client.PostAsync("/v1/completions", new StringContent("{\"prompt\": \"def f():\\n\", \"max_tokens\": 4}", System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", http.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        Assert.Equal(0, await http.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var lines = http.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("server stopping: 1 completed", StringComparison.Ordinal));
        // --log-json: every line is one JSON object; the request's event has its fields.
        Assert.All(lines, l => System.Text.Json.JsonDocument.Parse(l).Dispose());
        Assert.Contains(lines, l => l.Contains("\"event\":\"http\"", StringComparison.Ordinal) && l.Contains("\"completion_tokens\":", StringComparison.Ordinal));
    }
}
