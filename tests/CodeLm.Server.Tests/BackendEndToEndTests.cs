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
            Assert.Single(http.Stderr.Split('\n'), l => l.Contains("path=/v1/completions", StringComparison.Ordinal));
            Assert.Contains("context 256", server.Stderr); // read from the backend's /v1/models
            await client.RequestAsync("shutdown", null);
            await client.NotifyAsync("exit");
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        finally { File.Delete(keyFile); }
    }
}
