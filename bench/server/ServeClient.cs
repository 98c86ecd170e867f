using System.Diagnostics;
using System.Text.Json;
using CodeLm.Server;
using StreamJsonRpc;

/// <summary>One `codelm serve` process over stdio with a StreamJsonRpc client.</summary>
sealed class ServeClient : IAsyncDisposable
{
    private readonly Process _proc;
    private readonly JsonRpc _rpc;

    private ServeClient(Process proc, JsonRpc rpc) { _proc = proc; _rpc = rpc; }

    /// <summary>Where this server's log goes (appended: read the last "server stopping" line for its counters).</summary>
    public string LogPath { get; private init; } = "";

    /// <summary>A server whose client sends <paramref name="settings"/> (default: 48 new tokens, greedy, 1,024 prompt tokens).</summary>
    public static async Task<ServeClient> StartAsync(string codelm, string checkpoint, string precision, string name, object? settings = null)
    {
        var log = Path.Combine(Path.GetTempPath(), $"codelm-bench-server-{name.Replace(' ', '-').Replace("(", "").Replace(")", "")}.log");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { codelm, "serve", "--checkpoint", checkpoint, "--log-file", log, "--verbose", "--precision", precision })
            psi.ArgumentList.Add(a);
        var proc = Process.Start(psi)!;
        proc.ErrorDataReceived += (_, _) => { };
        proc.BeginErrorReadLine();
        var formatter = new SystemTextJsonFormatter { JsonSerializerOptions = LspServerHost.JsonOptions() };
        var rpc = new JsonRpc(new HeaderDelimitedMessageHandler(proc.StandardInput.BaseStream, proc.StandardOutput.BaseStream, formatter));
        rpc.StartListening();
        await rpc.InvokeWithParameterObjectAsync<JsonElement>("initialize", new { processId = Environment.ProcessId, capabilities = new { },
            initializationOptions = new { codelm = settings ?? new { maxNewTokens = 48, temperature = 0, contextBudget = 1024 } } });
        await rpc.NotifyWithParameterObjectAsync("initialized", new { });
        return new ServeClient(proc, rpc) { LogPath = log };
    }

    public Task OpenAsync(string uri, string text) =>
        _rpc.NotifyWithParameterObjectAsync("textDocument/didOpen", new { textDocument = new { uri, languageId = "csharp", version = 1, text } });

    public Task ChangeAsync(string uri, int version, object pos, string text) =>
        _rpc.NotifyWithParameterObjectAsync("textDocument/didChange", new { textDocument = new { uri, version },
            contentChanges = new[] { new { range = new { start = pos, end = pos }, text } } });

    public async Task<(double Ms, string? Text)> InlineAsync(string uri, string text, int offset)
    {
        var (ms, items) = await InlineItemsAsync(uri, text, offset);
        return (ms, items.FirstOrDefault());
    }

    /// <summary>Every item's insert text; <paramref name="invoked"/> asks as a user cycling or triggering does (triggerKind 1).</summary>
    public async Task<(double Ms, string[] Items)> InlineItemsAsync(string uri, string text, int offset, bool invoked = false)
    {
        var line = text[..offset].Count(c => c == '\n');
        var character = offset - (text.LastIndexOf('\n', offset - 1) + 1);
        var clock = Stopwatch.StartNew();
        var r = await _rpc.InvokeWithParameterObjectAsync<JsonElement>("textDocument/inlineCompletion",
            new { textDocument = new { uri }, position = new { line, character }, context = new { triggerKind = invoked ? 1 : 2 } });
        var ms = clock.Elapsed.TotalMilliseconds;
        return (ms, r.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("insertText").GetString()!).ToArray());
    }

    public async Task<double> AnchorAsync()
    {
        var clock = Stopwatch.StartNew();
        try { await _rpc.InvokeWithParameterObjectAsync<JsonElement>("codelm/anchor", new { }); }
        catch (RemoteMethodNotFoundException) { }
        return clock.Elapsed.TotalMilliseconds;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _rpc.InvokeWithParameterObjectAsync<JsonElement>("shutdown", null);
            await _rpc.NotifyWithParameterObjectAsync("exit", null);
            await _proc.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            _rpc.Dispose();
            if (!_proc.HasExited) _proc.Kill();
            _proc.Dispose();
        }
    }
}
