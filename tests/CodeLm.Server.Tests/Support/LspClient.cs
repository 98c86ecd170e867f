using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Server;
using StreamJsonRpc;

namespace CodeLm.Server.Tests.Support;

/// <summary>A StreamJsonRpc LSP client over a pair of streams (a child's stdin/stdout or in-process pipes).</summary>
public sealed class LspClient : IDisposable
{
    public JsonRpc Rpc { get; }
    public Stream ToServer { get; }

    public LspClient(Stream toServer, Stream fromServer)
    {
        ToServer = toServer;
        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = LspServerHost.JsonOptions() };
        Rpc = new JsonRpc(new HeaderDelimitedMessageHandler(toServer, fromServer, formatter));
        Rpc.StartListening();
    }

    public Task<JsonElement> RequestAsync(string method, object? args, CancellationToken ct = default) =>
        Rpc.InvokeWithParameterObjectAsync<JsonElement>(method, args, ct);

    public Task NotifyAsync(string method, object? args = null) => Rpc.NotifyWithParameterObjectAsync(method, args);

    public Task<JsonElement> InitializeAsync(object? initializationOptions = null) =>
        RequestAsync("initialize", new { processId = Environment.ProcessId, clientInfo = new { name = "codelm-tests" }, capabilities = new { }, initializationOptions });

    public async Task<JsonElement> StartAsync(object? initializationOptions = null)
    {
        var init = await InitializeAsync(initializationOptions);
        await NotifyAsync("initialized", new { });
        return init;
    }

    public Task OpenAsync(string uri, string languageId, string text, int version = 1) =>
        NotifyAsync("textDocument/didOpen", new { textDocument = new { uri, languageId, version, text } });

    public Task ChangeAsync(string uri, int version, int startLine, int startChar, int endLine, int endChar, string text) =>
        NotifyAsync("textDocument/didChange", new
        {
            textDocument = new { uri, version },
            contentChanges = new[] { new { range = new { start = new { line = startLine, character = startChar }, end = new { line = endLine, character = endChar } }, text } },
        });

    /// <summary>An inline completion request; <paramref name="invoked"/> sends triggerKind 1 (the user asked or cycled), else 2 (typing).</summary>
    public Task<JsonElement> InlineAsync(string uri, int line, int character, CancellationToken ct = default, bool invoked = false) =>
        RequestAsync("textDocument/inlineCompletion", new
        {
            textDocument = new { uri },
            position = new { line, character },
            context = new { triggerKind = invoked ? 1 : 2 },
        }, ct);

    public static string[] InsertTexts(JsonElement list) =>
        list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("insertText").GetString()!).ToArray();

    /// <summary>Writes raw bytes as they are (for malformed input).</summary>
    public async Task SendRawAsync(byte[] bytes)
    {
        await ToServer.WriteAsync(bytes);
        await ToServer.FlushAsync();
    }

    public void Dispose() => Rpc.Dispose();

    public static string? FirstInsertText(JsonElement list) =>
        list.GetProperty("items").GetArrayLength() == 0 ? null : list.GetProperty("items")[0].GetProperty("insertText").GetString();
}
