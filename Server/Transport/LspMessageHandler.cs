using System.Buffers;
using System.Text;
using System.Text.Json;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace CodeLm.Server.Transport;

/// <summary>
/// StreamJsonRpc message handler for the LSP base protocol that never lets a bad message end the connection:
/// framing errors and malformed bodies are answered here (JSON-RPC parse error / invalid request, id null when
/// unknown), logged, and skipped; only well-formed requests and notifications reach JsonRpc.
/// Writes are whole frames under one lock, so these error replies never interleave with JsonRpc's.
/// </summary>
public sealed class LspMessageHandler : MessageHandlerBase
{
    private readonly Stream output;
    private readonly LspFrameReader reader;
    private readonly ServerLog log;
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private long rejected;

    public LspMessageHandler(Stream input, Stream output, IJsonRpcMessageFormatter formatter, ServerLog log) : base(formatter)
    {
        this.output = output;
        this.log = log;
        reader = new LspFrameReader(input);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;

    /// <summary>Messages rejected here (bad framing, bad JSON, not JSON-RPC) since start.</summary>
    public long Rejected => Interlocked.Read(ref rejected);

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken ct)
    {
        while (true)
        {
            var frame = await reader.ReadAsync(ct);
            if (frame.EndOfStream) return null;
            if (frame.Body == null)
            {
                await RejectAsync(null, Protocol.ErrorCodes.ParseError, "Parse error: " + frame.Error);
                continue;
            }
            var verdict = JsonRpcShape.Check(frame.Body);
            if (!verdict.Valid)
            {
                await RejectAsync(verdict.IdJson, verdict.ErrorCode, verdict.ErrorMessage!);
                continue;
            }
            if (verdict.IsResponse)
            {
                // This server sends no requests, so a response answers nothing: note it and move on.
                log.Debug($"ignored a response to id {verdict.IdJson}");
                continue;
            }
            try
            {
                return Formatter.Deserialize(new ReadOnlySequence<byte>(frame.Body));
            }
            catch (Exception e)
            {
                await RejectAsync(verdict.IdJson, Protocol.ErrorCodes.InvalidRequest, "Invalid Request: " + e.Message);
            }
        }
    }

    protected override async ValueTask WriteCoreAsync(JsonRpcMessage content, CancellationToken ct)
    {
        var body = new ArrayBufferWriter<byte>();
        Formatter.Serialize(body, content);
        await WriteFrameAsync(body.WrittenMemory);
    }

    protected override ValueTask FlushAsync(CancellationToken ct) => ValueTask.CompletedTask; // each frame is flushed whole

    private async Task RejectAsync(string? idJson, int code, string message)
    {
        Interlocked.Increment(ref rejected);
        log.Warn($"rejected a message (id {idJson ?? "null"}): {message}");
        var body = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", "2.0");
            w.WritePropertyName("id");
            if (idJson == null) w.WriteNullValue(); else w.WriteRawValue(idJson);
            w.WriteStartObject("error");
            w.WriteNumber("code", code);
            w.WriteString("message", message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        try { await WriteFrameAsync(body.WrittenMemory); }
        catch (IOException) { } // the client went away; the read side will see the end of stream
        catch (ObjectDisposedException) { }
    }

    private async Task WriteFrameAsync(ReadOnlyMemory<byte> body)
    {
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        // Not cancellable on purpose: a frame cut in half would corrupt the stream for the client.
        await writeLock.WaitAsync();
        try
        {
            await output.WriteAsync(header);
            await output.WriteAsync(body);
            await output.FlushAsync();
        }
        finally { writeLock.Release(); }
    }
}
