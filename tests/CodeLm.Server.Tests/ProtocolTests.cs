using System.Text;
using System.Text.Json;
using CodeLm.Server.Protocol;
using CodeLm.Server.Tests.Support;
using StreamJsonRpc;

namespace CodeLm.Server.Tests;

/// <summary>The LSP surface over real pipes, with a scripted engine (the model is not under test here).</summary>
public sealed class ProtocolTests
{
    private const string Uri = "file:///work/demo.py";

    [Fact]
    public async Task Initialize_advertises_utf16_incremental_sync_inline_and_completion()
    {
        await using var s = new InProcessServer(new ScriptedEngine());
        var init = await s.Client.InitializeAsync();
        var caps = init.GetProperty("capabilities");
        Assert.Equal("utf-16", caps.GetProperty("positionEncoding").GetString());
        Assert.Equal(2, caps.GetProperty("textDocumentSync").GetProperty("change").GetInt32());
        Assert.True(caps.GetProperty("textDocumentSync").GetProperty("openClose").GetBoolean());
        Assert.True(caps.GetProperty("inlineCompletionProvider").GetBoolean());
        Assert.False(caps.GetProperty("completionProvider").GetProperty("resolveProvider").GetBoolean());
        Assert.Equal("codelm", init.GetProperty("serverInfo").GetProperty("name").GetString());

        // A client with inline completions is not offered the completion list as well (it would show the same text twice).
        await using var s2 = new InProcessServer(new ScriptedEngine());
        var init2 = await s2.Client.RequestAsync("initialize", new { processId = (int?)null, capabilities = new { textDocument = new { inlineCompletion = new { } } } });
        Assert.False(init2.GetProperty("capabilities").TryGetProperty("completionProvider", out _));
        Assert.True(init2.GetProperty("capabilities").GetProperty("inlineCompletionProvider").GetBoolean());
    }

    [Fact]
    public async Task Requests_before_initialize_get_ServerNotInitialized_and_unknown_methods_MethodNotFound()
    {
        await using var s = new InProcessServer(new ScriptedEngine());
        var early = await Assert.ThrowsAsync<RemoteInvocationException>(() => s.Client.InlineAsync(Uri, 0, 0));
        Assert.Equal(ErrorCodes.ServerNotInitialized, early.ErrorCode);
        await s.Client.StartAsync();
        var unknown = await Assert.ThrowsAsync<RemoteMethodNotFoundException>(() => s.Client.RequestAsync("codelm/noSuchMethod", new { }));
        Assert.Equal(ErrorCodes.MethodNotFound, (int)unknown.ErrorCode);
        await s.Client.NotifyAsync("$/noSuchNotification", new { }); // ignored, as the spec asks for $/ notifications
        var again = await Assert.ThrowsAsync<RemoteInvocationException>(() => s.Client.InitializeAsync());
        Assert.Equal(ErrorCodes.InvalidRequest, again.ErrorCode);
    }

    [Fact]
    public async Task Translate_lays_out_the_source_and_target_and_refuses_bad_params_and_overlong_text()
    {
        var engine = new ScriptedEngine { ContextLength = 64, RespondContinue = _ => "\nint add(int a, int b) {\n    return a + b;\n}\n\n" };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync();
        var r = await s.Client.RequestAsync("codelm/translate", new { text = "def add(a, b):\n    return a + b\n", languageId = "python", to = "cpp", maxNewTokens = 16 });
        Assert.Equal("int add(int a, int b) {\n    return a + b;\n}\n", r.GetProperty("text").GetString());
        Assert.Equal("Python", r.GetProperty("from").GetString());
        Assert.Equal("C++", r.GetProperty("to").GetString());
        Assert.Equal("# language: Python\ndef add(a, b):\n    return a + b\n\n// language: C++\n", Assert.Single(engine.Continued));

        // StreamJsonRpc surfaces an InvalidParams error as RemoteMethodNotFoundException.
        var missing = await Assert.ThrowsAsync<RemoteMethodNotFoundException>(() => s.Client.RequestAsync("codelm/translate", new { text = "x", languageId = "python" }));
        Assert.Equal(ErrorCodes.InvalidParams, (int)missing.ErrorCode);
        Assert.Contains("text, languageId and to are required", missing.Message);
        var unknown = await Assert.ThrowsAsync<RemoteMethodNotFoundException>(() => s.Client.RequestAsync("codelm/translate", new { text = "x", languageId = "python", to = "cobol" }));
        Assert.Contains("'cobol' is not a language", unknown.Message);
        var tooLong = await Assert.ThrowsAsync<RemoteMethodNotFoundException>(() =>
            s.Client.RequestAsync("codelm/translate", new { text = string.Join('\n', Enumerable.Repeat("x = 1", 60)), languageId = "python", to = "go", maxNewTokens = 16 }));
        Assert.Contains("select less", tooLong.Message);
    }

    [Fact]
    public async Task Incremental_changes_in_utf16_units_with_emoji_and_cjk_reach_the_prompt()
    {
        var engine = new ScriptedEngine { Respond = _ => "total + 1" };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync();
        // "😀" is two UTF-16 code units (one code point, four UTF-8 bytes); "漢字" two units.
        await s.Client.OpenAsync(Uri, "python", "s = \"😀漢字\"\nx = \n");
        // Insert " ok" after the emoji and the two CJK characters: character 5 + 2 + 2 = 9 on line 0.
        await s.Client.ChangeAsync(Uri, 2, 0, 9, 0, 9, " ok");
        // Replace the emoji itself (characters 5..7) by "é".
        await s.Client.ChangeAsync(Uri, 3, 0, 5, 0, 7, "é");
        var list = await s.Client.InlineAsync(Uri, 1, 4);
        Assert.Equal("total + 1", LspClient.FirstInsertText(list));
        var range = list.GetProperty("items")[0].GetProperty("range");
        Assert.Equal(1, range.GetProperty("start").GetProperty("line").GetInt32());
        Assert.Equal(4, range.GetProperty("start").GetProperty("character").GetInt32());
        var prompt = engine.Calls.Single().Prompt;
        Assert.Equal("# language: Python\ns = \"é漢字 ok\"\nx = ", prompt.Prefix);
        Assert.Equal("\n", prompt.Suffix);

        // A cursor after an emoji on its own line: the range is reported in UTF-16 units too.
        await s.Client.ChangeAsync(Uri, 4, 2, 0, 2, 0, "🚀🚀 = ");
        engine.Respond = _ => "launch()";
        var list2 = await s.Client.InlineAsync(Uri, 2, 7);
        var start = list2.GetProperty("items")[0].GetProperty("range").GetProperty("start");
        Assert.Equal(7, start.GetProperty("character").GetInt32());
        Assert.EndsWith("🚀🚀 = ", engine.Calls[^1].Prompt.Prefix);
    }

    [Fact]
    public async Task Completion_fallback_returns_one_item_with_the_same_text_and_an_edit_at_the_cursor()
    {
        await using var s = new InProcessServer(new ScriptedEngine { Respond = _ => "print(total)" });
        await s.Client.StartAsync();
        await s.Client.OpenAsync(Uri, "python", "total = 3\n\n");
        var list = await s.Client.RequestAsync("textDocument/completion", new { textDocument = new { uri = Uri }, position = new { line = 1, character = 0 } });
        var items = list.GetProperty("items");
        Assert.Equal(1, items.GetArrayLength());
        Assert.Equal("print(total)", items[0].GetProperty("textEdit").GetProperty("newText").GetString());
        Assert.Equal("print(total)", items[0].GetProperty("label").GetString());
        Assert.Equal(0, items[0].GetProperty("textEdit").GetProperty("range").GetProperty("start").GetProperty("character").GetInt32());
    }

    [Fact]
    public async Task Settings_from_initializationOptions_and_didChangeConfiguration_reach_the_engine()
    {
        var engine = new ScriptedEngine { Respond = _ => "value_1" };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync(new { maxNewTokens = 17, temperature = 0.5, contextBudget = 40, enabledLanguages = new[] { "python" } });
        var longPrefix = string.Join("\n", Enumerable.Range(0, 40).Select(i => $"a{i} = {i}")) + "\nb = ";
        await s.Client.OpenAsync(Uri, "python", longPrefix);
        await s.Client.OpenAsync("file:///work/x.rs", "rust", "fn main() { let x = ");
        Assert.Equal("value_1", LspClient.FirstInsertText(await s.Client.InlineAsync(Uri, 40, 4)));
        var (prompt, options) = engine.Calls.Single();
        Assert.Equal(17, options.MaxNewTokens);
        Assert.Equal(0.5f, options.Temperature);
        Assert.True(engine.CountTokens(prompt.Prefix + prompt.Suffix) <= 40, "context budget respected: " + prompt.Prefix);
        Assert.EndsWith("\nb = ", prompt.Prefix);
        // Rust is not enabled: no suggestion and no model call.
        Assert.Null(LspClient.FirstInsertText(await s.Client.InlineAsync("file:///work/x.rs", 0, 20)));
        Assert.Single(engine.Calls);

        // VS Code sends { settings: { codelm: {...} } }; the new values apply to the next request.
        await s.Client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { maxNewTokens = 5, enabledLanguages = new[] { "*" }, temperature = "hot" } } });
        Assert.NotNull(LspClient.FirstInsertText(await s.Client.InlineAsync("file:///work/x.rs", 0, 20)));
        Assert.Equal(5, engine.Calls[^1].Options.MaxNewTokens);
        Assert.Equal(0.5f, engine.Calls[^1].Options.Temperature); // the bad value was ignored
        Assert.Contains("setting 'temperature' ignored", s.LogText.ToString());
        await s.Client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { enabled = false } } });
        Assert.Null(LspClient.FirstInsertText(await s.Client.InlineAsync(Uri, 40, 4)));
    }

    [Fact]
    public async Task CancelRequest_cancels_and_a_newer_request_supersedes_the_older_one()
    {
        var engine = new ScriptedEngine { Respond = p => p.Prefix.EndsWith("y = ") ? "2 * x" : "1 + 1", Delay = TimeSpan.FromSeconds(30) };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync();
        await s.Client.OpenAsync(Uri, "python", "x = \n");

        using var cts = new CancellationTokenSource();
        var cancelled = s.Client.InlineAsync(Uri, 0, 4, cts.Token);
        await WaitUntil(() => engine.Calls.Count == 1);
        cts.Cancel(); // StreamJsonRpc sends $/cancelRequest
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        var older = s.Client.InlineAsync(Uri, 0, 4);
        await WaitUntil(() => engine.Calls.Count == 2);
        engine.Delay = TimeSpan.Zero;
        await s.Client.ChangeAsync(Uri, 2, 1, 0, 1, 0, "y = ");
        var newer = await s.Client.InlineAsync(Uri, 1, 4);
        Assert.Equal("2 * x", LspClient.FirstInsertText(newer));
        Assert.Null(LspClient.FirstInsertText(await older)); // superseded: answered with an empty list
        Assert.Equal(1, s.Completions.Superseded);
    }

    [Fact]
    public async Task Retyping_the_same_context_is_served_from_the_cache()
    {
        var engine = new ScriptedEngine { Respond = _ => "range(10)" };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync();
        await s.Client.OpenAsync(Uri, "python", "for i in \n");
        Assert.Equal("range(10)", LspClient.FirstInsertText(await s.Client.InlineAsync(Uri, 0, 9)));
        await s.Client.ChangeAsync(Uri, 2, 0, 9, 0, 9, "r");
        await s.Client.ChangeAsync(Uri, 3, 0, 9, 0, 10, "");
        Assert.Equal("range(10)", LspClient.FirstInsertText(await s.Client.InlineAsync(Uri, 0, 9)));
        Assert.Single(engine.Calls);
        Assert.Equal(1, s.Completions.CacheHits);
    }

    [Fact]
    public async Task Malformed_messages_get_protocol_errors_and_the_session_goes_on()
    {
        await using var s = new InProcessServer(new ScriptedEngine(), rpcClient: false);
        var conn = new RawLspConnection(s.ToServer, s.FromServer);
        await conn.SendAsync(Encoding.ASCII.GetBytes("Content-Length: 5\r\n\r\nhello"));
        Assert.Equal(ErrorCodes.ParseError, (int)(await conn.ReadAsync(TimeSpan.FromSeconds(10)))!["error"]!["code"]!);
        await conn.SendAsync(Encoding.ASCII.GetBytes("Content-Length: nope\r\n\r\n"));
        Assert.Equal(ErrorCodes.ParseError, (int)(await conn.ReadAsync(TimeSpan.FromSeconds(10)))!["error"]!["code"]!);
        await conn.SendAsync("[1,2,3]");
        Assert.Equal(ErrorCodes.InvalidRequest, (int)(await conn.ReadAsync(TimeSpan.FromSeconds(10)))!["error"]!["code"]!);
        await conn.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":42}");
        var bad = (await conn.ReadAsync(TimeSpan.FromSeconds(10)))!;
        Assert.Equal(7, (int)bad["id"]!);
        Assert.Equal(ErrorCodes.InvalidRequest, (int)bad["error"]!["code"]!);
        // Junk in front of a header: the frame after it is still found.
        await conn.SendAsync([.. Encoding.ASCII.GetBytes("garbage without a newline"), .. RawLspConnection.Frame("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"initialize\",\"params\":{\"capabilities\":{}}}")]);
        var init = await conn.ResponseAsync(8, TimeSpan.FromSeconds(10));
        Assert.Equal("utf-16", (string?)init["result"]!["capabilities"]!["positionEncoding"]);
        // Wrong parameter types for a request: InvalidParams, and the server still answers afterwards.
        await conn.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"textDocument/inlineCompletion\",\"params\":{\"textDocument\":5,\"position\":\"x\"}}");
        Assert.Equal(ErrorCodes.InvalidParams, (int)(await conn.ResponseAsync(9, TimeSpan.FromSeconds(10)))["error"]!["code"]!);
        var shutdown = await conn.RequestAsync("shutdown", null);
        Assert.True((await conn.ResponseAsync(shutdown, TimeSpan.FromSeconds(10))).ContainsKey("result"));
        await conn.NotifyAsync("exit", null);
        Assert.Equal(0, await s.Run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Exit_without_shutdown_ends_with_code_1_and_requests_after_shutdown_are_refused()
    {
        await using var s = new InProcessServer(new ScriptedEngine());
        await s.Client.StartAsync();
        await s.Client.RequestAsync("shutdown", null);
        await s.Client.OpenAsync(Uri, "python", "x = ");
        var refused = await Assert.ThrowsAsync<RemoteInvocationException>(() => s.Client.InlineAsync(Uri, 0, 4));
        Assert.Equal(ErrorCodes.InvalidRequest, refused.ErrorCode);
        await s.Client.NotifyAsync("exit");
        Assert.Equal(0, await s.Run.WaitAsync(TimeSpan.FromSeconds(10)));

        await using var s2 = new InProcessServer(new ScriptedEngine());
        await s2.Client.StartAsync();
        await s2.Client.NotifyAsync("exit");
        Assert.Equal(1, await s2.Run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(20);
        Assert.True(condition());
    }
}
