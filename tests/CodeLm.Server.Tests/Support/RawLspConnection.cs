using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Server.Transport;

namespace CodeLm.Server.Tests.Support;

/// <summary>
/// Byte-level access to a server: frames written as given and replies read with the frame reader, so tests can send
/// what no well-behaved client would and still see every reply (including error responses with a null id).
/// </summary>
public sealed class RawLspConnection(Stream toServer, Stream fromServer)
{
    private readonly LspFrameReader reader = new(fromServer);
    private int nextId = 1000;

    public static byte[] Frame(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return [.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body];
    }

    public async Task SendAsync(byte[] bytes)
    {
        await toServer.WriteAsync(bytes);
        await toServer.FlushAsync();
    }

    public Task SendAsync(string json) => SendAsync(Frame(json));

    public async Task<int> RequestAsync(string method, object? @params)
    {
        var id = Interlocked.Increment(ref nextId);
        await SendAsync(JsonSerializer.Serialize(new { jsonrpc = "2.0", id, method, @params }, Server.LspServerHost.JsonOptions()));
        return id;
    }

    public Task NotifyAsync(string method, object? @params) =>
        SendAsync(JsonSerializer.Serialize(new { jsonrpc = "2.0", method, @params }, Server.LspServerHost.JsonOptions()));

    /// <summary>The next message from the server, or null at end of stream.</summary>
    public async Task<JsonObject?> ReadAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var frame = await reader.ReadAsync(cts.Token);
        if (frame.EndOfStream) return null;
        Assert.True(frame.Body != null, "server wrote a malformed frame: " + frame.Error);
        return JsonNode.Parse(frame.Body)!.AsObject();
    }

    /// <summary>Reads until the response to <paramref name="id"/>; the messages skipped on the way are handed to <paramref name="skipped"/>.</summary>
    public async Task<JsonObject> ResponseAsync(int id, TimeSpan timeout, Action<JsonObject>? skipped = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no response to id {id} within {timeout}");
            var msg = await ReadAsync(left) ?? throw new EndOfStreamException($"server closed its output before answering id {id}");
            if (msg["id"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<int>() == id) return msg;
            skipped?.Invoke(msg);
        }
    }
}
