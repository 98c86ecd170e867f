using CodeLm.Common;
using CodeLm.Common.Completion;
using System.Text.Json;
using CodeLm.Server.Completion;
using CodeLm.Server.Documents;
using CodeLm.Server.Protocol;
using CodeLm.Server.Tests.Support;
using CodeLm.Tests;
using StreamJsonRpc;

namespace CodeLm.Server.Tests;

/// <summary>
/// The real `codelm serve` process on a real (tiny) checkpoint, driven over its stdin/stdout by a StreamJsonRpc client.
/// Expected completions come from the same checkpoint run in this process through the same completion pipeline.
/// </summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class EndToEndTests(TinyCheckpoint tiny)
{
    public const string Uri = "file:///project/scale.py";
    public const string Document = "def scale(values, factor):\n    result = \n";

    /// <summary>What the server must answer for <paramref name="text"/> at <paramref name="offset"/> under <paramref name="settings"/>.</summary>
    public static async Task<ShapedCompletion?> ExpectedAsync(TinyCheckpoint tiny, string text, int offset, CompletionSettings settings)
    {
        using var engine = tiny.LoadEngine(reuseKvCache: false);
        var service = new CompletionService(engine, new ServerLog(TextWriter.Null)) { Settings = settings };
        return (await service.CompleteAsync("file:///expected", text, offset, "python", default)).Completion;
    }

    [Fact]
    public async Task Initialize_open_edit_complete_cancel_shutdown_exit()
    {
        var offset = Document.IndexOf("= \n", StringComparison.Ordinal) + 2;
        var expected = await ExpectedAsync(tiny, Document, offset, new CompletionSettings { MaxNewTokens = 24 });
        Assert.NotNull(expected);

        using var server = new ServerProcess(tiny.Dir);
        using var client = new LspClient(server.ToServer, server.FromServer);
        var init = await client.StartAsync(new { codelm = new { maxNewTokens = 24 } });
        Assert.Equal("utf-16", init.GetProperty("capabilities").GetProperty("positionEncoding").GetString());

        // Open with a typo and fix it incrementally: "res" → "result".
        await client.OpenAsync(Uri, "python", Document.Replace("result", "res"));
        await client.ChangeAsync(Uri, 2, 1, 7, 1, 7, "ult");
        var cursor = TextDocument.PositionOf(Document, offset);
        var list = await client.InlineAsync(Uri, cursor.Line, cursor.Character);
        var item = list.GetProperty("items")[0];
        Assert.Equal(expected.InsertText, item.GetProperty("insertText").GetString());
        var end = TextDocument.PositionOf(Document, offset + expected.ReplaceLength);
        Assert.Equal(cursor.Character, item.GetProperty("range").GetProperty("start").GetProperty("character").GetInt32());
        Assert.Equal(end.Character, item.GetProperty("range").GetProperty("end").GetProperty("character").GetInt32());

        var fallback = await client.RequestAsync("textDocument/completion", new { textDocument = new { uri = Uri }, position = cursor });
        Assert.Equal(expected.InsertText, fallback.GetProperty("items")[0].GetProperty("textEdit").GetProperty("newText").GetString());

        // A long generation (the checkpoint's probe runs 200 tokens on one line, tens of milliseconds), cancelled by the
        // client 10 ms in. StreamJsonRpc honours a cancel even for a request still queued behind another (checked with a
        // stalled non-concurrent context), but on a starved machine the answer can be complete before the cancel is read,
        // which LSP allows; so try up to 20 times. Each settings notification clears the cache, so every try generates
        // afresh. Any answer that does come back must be well-formed, and at least one try must end cancelled.
        var cancelled = 0;
        for (var attempt = 0; attempt < 20 && cancelled == 0; attempt++)
        {
            await client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { maxNewTokens = TinyCheckpoint.LongRun } } });
            using var cts = new CancellationTokenSource();
            var slow = client.InlineAsync(Uri, cursor.Line, cursor.Character, cts.Token);
            await Task.Delay(10);
            cts.Cancel();
            try { Assert.Equal(JsonValueKind.Array, (await slow).GetProperty("items").ValueKind); }
            catch (OperationCanceledException) { cancelled++; }
        }
        Assert.Equal(1, cancelled);
        await client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { maxNewTokens = 24 } } });
        Assert.Equal(expected.InsertText, LspClient.FirstInsertText(await client.InlineAsync(Uri, cursor.Line, cursor.Character)));

        var unknown = await Assert.ThrowsAsync<RemoteMethodNotFoundException>(() => client.RequestAsync("codelm/unknown", new { }));
        Assert.Equal(ErrorCodes.MethodNotFound, (int)unknown.ErrorCode);

        // "Translate Selection to…": the model's greedy continuation of the shared translation layout.
        var code = "def add(a, b):\n    return a + b\n";
        using (var engine = tiny.LoadEngine(reuseKvCache: false))
        {
            var want = engine.Continue(TranslationPrompt.Build("Python", code, "C++"), 16, TranslationPrompt.Stops("Python", "C++"), default).Trim('\n') + "\n";
            var translated = await client.RequestAsync("codelm/translate", new { text = code, languageId = "python", to = "cpp", maxNewTokens = 16 });
            Assert.Equal(want, translated.GetProperty("text").GetString());
            Assert.Equal("C++", translated.GetProperty("to").GetString());
        }

        await client.RequestAsync("shutdown", null);
        await client.NotifyAsync("exit");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var log = server.Stderr;
        Assert.Contains("listening on stdio", log);
        Assert.Contains("warmed up", log);
        Assert.Contains("shutdown requested", log);
    }

    [Fact]
    public async Task Cycling_gets_distinct_shaped_candidates_after_the_single_answer_and_events_reach_the_log()
    {
        var offset = Document.IndexOf("= \n", StringComparison.Ordinal) + 2;
        var single = await ExpectedAsync(tiny, Document, offset, new CompletionSettings { MaxNewTokens = 24 });
        Assert.NotNull(single);

        using var temp = new TempDir();
        var logPath = temp.File("acceptance.jsonl");
        using var server = new ServerProcess(tiny.Dir, "--acceptance-log", logPath);
        using var client = new LspClient(server.ToServer, server.FromServer);
        await client.StartAsync(new { codelm = new { maxNewTokens = 24, candidates = 4, candidateTemperature = 1.0 } });
        await client.OpenAsync(Uri, "python", Document);
        var cursor = TextDocument.PositionOf(Document, offset);
        Assert.Equal([single!.InsertText], LspClient.InsertTexts(await client.InlineAsync(Uri, cursor.Line, cursor.Character)));
        var cycled = LspClient.InsertTexts(await client.InlineAsync(Uri, cursor.Line, cursor.Character, invoked: true));
        Assert.Equal(single.InsertText, cycled[0]);
        Assert.InRange(cycled.Length, 2, 4); // four samples at temperature 1 of a random-weight model: some are new
        Assert.Equal(cycled.Length, cycled.Distinct().Count());
        Assert.All(cycled, t => Assert.True(t.Trim().Length > 0 && !t.Contains('\n') && t == t.TrimEnd(), $"not shaped for line mode: '{t}'"));
        Assert.Equal(cycled, LspClient.InsertTexts(await client.InlineAsync(Uri, cursor.Line, cursor.Character, invoked: true)));

        await client.NotifyAsync("codelm/event", new { kind = "shown", languageId = "python", latencyMs = 42 });
        await client.NotifyAsync("codelm/event", new { kind = "accepted", languageId = "python", chars = cycled[0].Length });
        await client.RequestAsync("shutdown", null);
        await client.NotifyAsync("exit");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        var (events, _) = CodeLm.Server.Stats.AcceptanceLog.Read(logPath);
        Assert.Equal(["Shown", "Accepted"], events.Select(e => e.Kind.ToString()));
        Assert.All(events, e => Assert.Equal(Path.GetFullPath(tiny.Dir), e.Model));
    }

    [Fact]
    public void Serve_without_a_checkpoint_fails_with_a_clear_message()
    {
        using var temp = new TempDir();
        var r = CodeLmCli.Run(["serve", "--checkpoint", temp.File("missing")], cwd: null, timeoutMs: 60_000);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("does not exist", r.Stderr);
        Assert.Equal("", r.Stdout);
    }
}
