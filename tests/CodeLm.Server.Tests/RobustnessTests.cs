using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Server.Completion;
using CodeLm.Server.Documents;
using CodeLm.Server.Protocol;
using CodeLm.Server.Tests.Support;
using Xunit.Abstractions;

namespace CodeLm.Server.Tests;

/// <summary>
/// The spawned server under 10,000 fuzzed or malformed messages and 1,000 rapid edits with completions and
/// cancellations: it must stay up, keep its memory bounded, and answer correctly afterwards.
/// </summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class RobustnessTests(TinyCheckpoint tiny, ITestOutputHelper output)
{
    private const string Uri = EndToEndTests.Uri;

    private static string Tail(string log) => log.Length <= 3000 ? log : log[^3000..];

    [Fact]
    public async Task Survives_fuzzing_and_rapid_edits_with_bounded_memory_then_answers_correctly()
    {
        var offset = EndToEndTests.Document.IndexOf("= \n", StringComparison.Ordinal) + 2;
        var settings = new CompletionSettings { MaxNewTokens = 24 };
        var expected = await EndToEndTests.ExpectedAsync(tiny, EndToEndTests.Document, offset, settings);
        Assert.NotNull(expected);
        var cursor = TextDocument.PositionOf(EndToEndTests.Document, offset);

        using var server = new ServerProcess(tiny.Dir);
        var conn = new RawLspConnection(server.ToServer, server.FromServer);
        var replies = new ConcurrentDictionary<int, JsonObject>();
        var nullIdErrors = 0;
        var reader = Task.Run(async () =>
        {
            while (await conn.ReadAsync(TimeSpan.FromMinutes(5)) is { } msg)
            {
                if (msg["id"] is JsonValue v && v.GetValueKind() == JsonValueKind.Number) replies[v.GetValue<int>()] = msg;
                else if (msg.ContainsKey("error")) Interlocked.Increment(ref nullIdErrors);
            }
        });
        async Task<JsonObject> Reply(int id)
        {
            for (var i = 0; i < 6000; i++)
            {
                if (replies.TryRemove(id, out var m)) return m;
                Assert.False(reader.IsCompleted, "the server closed its output; stderr:\n" + server.Stderr);
                await Task.Delay(10);
            }
            throw new TimeoutException($"no reply to {id}; stderr:\n{server.Stderr}");
        }

        await Reply(await conn.RequestAsync("initialize", new { processId = Environment.ProcessId, capabilities = new { }, initializationOptions = new { maxNewTokens = 24 } }));
        await conn.NotifyAsync("initialized", new { });
        await conn.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri = Uri, languageId = "python", version = 1, text = EndToEndTests.Document } });
        var first = await Reply(await conn.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri = Uri }, position = cursor }));
        Assert.Equal(expected.InsertText, (string?)first["result"]!["items"]![0]!["insertText"]);
        var rssStart = server.RssMiB();

        // 10,000 fuzzed messages, with a well-formed probe every 1,000 to see the session is still answering.
        var random = new Random(20261122);
        var fuzzIds = new List<int>();
        for (var i = 0; i < 10_000; i++)
        {
            var (bytes, id) = Fuzz.Message(random, 500_000 + i);
            if (id != null) fuzzIds.Add(id.Value);
            try { await conn.SendAsync(bytes); }
            catch (IOException e) { throw new InvalidOperationException($"server gone after fuzz message {i}: {Encoding.UTF8.GetString(bytes)[..Math.Min(200, bytes.Length)]}\n{Tail(server.Stderr)}", e); }
            if (i % 1000 == 999)
            {
                var probe = await Reply(await conn.RequestAsync("codelm/ping", new { }));
                Assert.Equal(ErrorCodes.MethodNotFound, (int)probe["error"]!["code"]!);
            }
        }
        var rssAfterFuzz = server.RssMiB();
        foreach (var id in fuzzIds) await Reply(id); // every fuzzed request with a usable id was answered
        Assert.True(nullIdErrors > 1000, $"expected many protocol errors with a null id, got {nullIdErrors}");

        // 1,000 rapid edits, each followed by a completion request; every third request is cancelled by the client.
        await conn.NotifyAsync("textDocument/didOpen", new { textDocument = new { uri = Uri, languageId = "python", version = 1, text = EndToEndTests.Document } });
        var text = EndToEndTests.Document;
        var rapidIds = new List<int>();
        for (var i = 0; i < 1000; i++)
        {
            var ch = (char)('a' + i % 26);
            var pos = TextDocument.PositionOf(text, offset);
            text = text.Insert(offset, ch.ToString());
            offset++;
            await conn.NotifyAsync("textDocument/didChange", new
            {
                textDocument = new { uri = Uri, version = i + 2 },
                contentChanges = new[] { new { range = new { start = pos, end = pos }, text = ch.ToString() } },
            });
            var id = await conn.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri = Uri }, position = TextDocument.PositionOf(text, offset) });
            rapidIds.Add(id);
            if (i % 3 == 2) await conn.NotifyAsync("$/cancelRequest", new { id });
        }
        int results = 0, cancelled = 0, empty = 0;
        foreach (var id in rapidIds)
        {
            var r = await Reply(id);
            if (r["error"] is { } e) { Assert.Equal(ErrorCodes.RequestCancelled, (int)e["code"]!); cancelled++; }
            else { results++; if (r["result"]!["items"]!.AsArray().Count == 0) empty++; }
        }
        var rssAfterRapid = server.RssMiB();

        // Afterwards: the final document's completion is exactly what the model gives for it.
        var finalExpected = await EndToEndTests.ExpectedAsync(tiny, text, offset, settings);
        var final = await Reply(await conn.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri = Uri }, position = TextDocument.PositionOf(text, offset) }));
        var items = final["result"]!["items"]!.AsArray();
        Assert.Equal(finalExpected?.InsertText, items.Count == 0 ? null : (string?)items[0]!["insertText"]);
        await conn.NotifyAsync("textDocument/didChange", new
        {
            textDocument = new { uri = Uri, version = 5000 },
            contentChanges = new[] { new { text = EndToEndTests.Document } },
        });
        var back = await Reply(await conn.RequestAsync("textDocument/inlineCompletion", new { textDocument = new { uri = Uri }, position = cursor }));
        Assert.Equal(expected.InsertText, (string?)back["result"]!["items"]![0]!["insertText"]);

        output.WriteLine($"RSS MiB: start {rssStart:F1}, after 10,000 fuzzed {rssAfterFuzz:F1}, after 1,000 rapid edits {rssAfterRapid:F1}");
        output.WriteLine($"fuzz: {nullIdErrors} errors with a null id, {fuzzIds.Count} fuzzed requests answered by id");
        output.WriteLine($"rapid: {results} results ({empty} empty: superseded or dropped), {cancelled} cancelled");
        Assert.True(rssAfterRapid - rssStart < 150, $"memory grew from {rssStart:F1} to {rssAfterRapid:F1} MiB");
        Assert.True(cancelled > 0 && results > 0);

        await Reply(await conn.RequestAsync("shutdown", null));
        await conn.NotifyAsync("exit", null);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("malformed messages rejected", server.Stderr);
    }
}

/// <summary>Malformed and hostile messages; each is self-delimiting so the next one can be framed.</summary>
public static class Fuzz
{
    private static readonly string[] Methods =
        ["textDocument/inlineCompletion", "textDocument/completion", "textDocument/didChange", "textDocument/didOpen", "initialize",
         "workspace/didChangeConfiguration", "$/cancelRequest", "textDocument/didClose", "no/such", "$/setTrace"];

    /// <summary>One fuzzed frame, and the id of the request in it when the server must answer that id.</summary>
    public static (byte[] Bytes, int? Id) Message(Random r, int id)
    {
        switch (r.Next(12))
        {
            case 0: // random bytes as a body
                return (Framed(RandomBytes(r, r.Next(0, 200))), null);
            case 1: // JSON that is not JSON-RPC
                return (Framed(Pick(r, "[]", "[1,2]", "42", "\"text\"", "null", "{}", "{\"jsonrpc\":\"1.0\",\"method\":\"x\"}", "{\"id\":{},\"method\":\"x\"}", "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}", "{\"jsonrpc\":\"2.0\",\"result\":1}")), null);
            case 2: // a request for an unknown method: MethodNotFound with its id
                return (Framed($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"fuzz/{r.Next()}\",\"params\":{{}}}}"), id);
            case 3: // a known request with parameters of the wrong shape: an error with its id
                return (Framed($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{Pick(r, "textDocument/inlineCompletion", "textDocument/completion")}\",\"params\":{Pick(r, "{\"textDocument\":5}", "{\"position\":\"x\"}", "[1,2,3]", "{\"textDocument\":{\"uri\":null},\"position\":{\"line\":-1,\"character\":1e9}}", "{}")}}}"), id);
            case 4: // notifications with garbage parameters
                return (Framed($"{{\"jsonrpc\":\"2.0\",\"method\":\"{Methods[r.Next(Methods.Length)]}\",\"params\":{Pick(r, "{\"textDocument\":[]}", "{\"contentChanges\":7}", "[null]", "{\"settings\":{\"codelm\":{\"maxNewTokens\":\"x\"}}}", "{\"id\":{}}", "{\"textDocument\":{\"uri\":\"file:///nope\",\"version\":1},\"contentChanges\":[{\"range\":{\"start\":{\"line\":99,\"character\":99},\"end\":{\"line\":0,\"character\":0}},\"text\":\"x\"}]}")}}}"), null);
            case 5: // a valid-looking message with bytes flipped, deleted or inserted (length kept right)
                {
                    var body = Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{Methods[r.Next(Methods.Length)]}\",\"params\":{{\"textDocument\":{{\"uri\":\"file:///f.py\"}},\"position\":{{\"line\":0,\"character\":3}}}}}}").ToList();
                    for (var k = r.Next(1, 4); k > 0; k--)
                    {
                        var at = r.Next(body.Count);
                        switch (r.Next(3)) { case 0: body[at] = (byte)r.Next(256); break; case 1: body.RemoveAt(at); break; default: body.Insert(at, (byte)r.Next(256)); break; }
                    }
                    return (Framed(body.ToArray()), null);
                }
            case 6: // bad headers
                return (Encoding.ASCII.GetBytes(Pick(r, "Content-Length: -5\r\n\r\n", "Content-Length: abc\r\n\r\n", "Content-Length: 99999999999999\r\n\r\n", "X-Header: y\r\n\r\n", "no colon here\r\n\r\n", "Content-Length:\r\n\r\n", ": empty name\r\n\r\n")), null);
            case 7: // junk before a good frame (resynchronisation)
                return ([.. RandomAscii(r, r.Next(1, 60)), .. Framed($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"fuzz/junk\"}}")], id);
            case 8: // deep nesting
                return (Framed(new string('[', 5000) + new string(']', 5000)), null);
            case 9: // a body shorter than declared, padded so the frame still ends here
                return (Framed(Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"x\"" + new string(' ', r.Next(1, 20)))), null);
            case 10: // responses to requests the server never made
                return (Framed($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{\"x\":1}}}}"), null);
            default: // cancellation of ids that do not exist, and invalid UTF-8
                return r.Next(2) == 0
                    ? (Framed($"{{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{{\"id\":{r.Next()}}}}}"), null)
                    : (Framed([.. Encoding.ASCII.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\""), 0xC3, 0x28, 0xFF, .. Encoding.ASCII.GetBytes("\"}}")]), null);
        }
    }

    private static byte[] Framed(string body) => Framed(Encoding.UTF8.GetBytes(body));

    private static byte[] Framed(byte[] body) => [.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body];

    private static string Pick(Random r, params string[] options) => options[r.Next(options.Length)];

    private static byte[] RandomBytes(Random r, int n) { var b = new byte[n]; r.NextBytes(b); return b; }

    private static byte[] RandomAscii(Random r, int n) => Enumerable.Range(0, n).Select(_ => (byte)r.Next(32, 127)).ToArray();
}
