using System.Text;
using CodeLm.Server.Transport;

namespace CodeLm.Server.Tests;

/// <summary>The base-protocol reader on byte streams that StreamJsonRpc's own header parser would disconnect on.</summary>
public sealed class FramingTests
{
    private static async Task<List<Frame>> ReadAll(string wire, int maxContentLength = LspFrameReader.DefaultMaxContentLength)
    {
        var reader = new LspFrameReader(new MemoryStream(Encoding.UTF8.GetBytes(wire)), maxContentLength);
        var frames = new List<Frame>();
        while (true)
        {
            var f = await reader.ReadAsync(default);
            if (f.EndOfStream) return frames;
            frames.Add(f);
        }
    }

    private static string Body(Frame f) => Encoding.UTF8.GetString(f.Body!);

    [Fact]
    public async Task Reads_frames_with_extra_headers_bare_newlines_and_case_insensitive_names()
    {
        var frames = await ReadAll("Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}\r\n" +
                                   "content-length: 3\n\n[1]");
        Assert.Equal(["{}", "[1]"], frames.Select(Body));
    }

    [Fact]
    public async Task Reports_bad_headers_and_resynchronises_on_the_next_frame()
    {
        var frames = await ReadAll("Content-Length: abc\r\n\r\nX: y\r\n\r\njunk junk Content-Length: 2\r\n\r\n{}" +
                                   "Content-Length: 10\r\n\r\n0123456789Content-Length: 1\r\n\r\n7");
        Assert.Equal(5, frames.Count);
        Assert.Contains("invalid Content-Length", frames[0].Error);
        Assert.Contains("missing Content-Length", frames[1].Error);
        Assert.Equal("{}", Body(frames[2]));
        Assert.Equal("0123456789", Body(frames[3]));
        Assert.Equal("7", Body(frames[4]));
    }

    [Fact]
    public async Task Skips_oversized_bodies_and_endless_header_lines_without_holding_them()
    {
        var frames = await ReadAll("Content-Length: 100\r\n\r\n" + new string('x', 100) + "Content-Length: 2\r\n\r\nok", maxContentLength: 50);
        Assert.Contains("exceeds", frames[0].Error);
        Assert.Equal("ok", Body(frames[1]));

        var endless = await ReadAll(new string('z', 100_000) + "Content-Length: 2\r\n\r\n{}");
        Assert.Equal("{}", Body(endless[^1]));
        Assert.All(endless[..^1], f => Assert.NotNull(f.Error));
    }

    [Fact]
    public async Task A_truncated_stream_ends_cleanly()
    {
        Assert.Empty(await ReadAll("Content-Length: 10\r\n\r\n{\"a\""));
        Assert.Empty(await ReadAll("Content-Len"));
    }

    [Fact]
    public void Shape_check_classifies_bodies()
    {
        static ShapeVerdict Check(string s) => JsonRpcShape.Check(Encoding.UTF8.GetBytes(s));
        Assert.True(Check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}").Valid);
        Assert.True(Check("{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}").Valid);
        Assert.True(Check("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":null}").IsResponse);
        Assert.Equal(-32700, Check("{").ErrorCode);
        Assert.Equal(-32700, JsonRpcShape.Check([(byte)'"', 0xC3, 0x28, (byte)'"']).ErrorCode);
        Assert.Equal(-32600, Check("[{}]").ErrorCode);
        var noVersion = Check("{\"id\":3,\"method\":\"x\"}");
        Assert.Equal(("3", -32600), (noVersion.IdJson, noVersion.ErrorCode));
        Assert.Null(Check("{\"jsonrpc\":\"2.0\",\"id\":{\"x\":1},\"method\":\"x\"}").IdJson);
        Assert.False(Check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":5}").Valid);
    }
}
