using System.Text.Json;
using CodeLm.Common;
using CodeLm.Server.Completion;
using CodeLm.Server.Context;
using CodeLm.Server.Documents;
using CodeLm.Server.Protocol;
using CodeLm.Server.Stats;
using StreamJsonRpc;

namespace CodeLm.Server;

/// <summary>
/// The LSP methods this server answers. StreamJsonRpc dispatches them in arrival order without concurrency (see
/// <see cref="LspServerHost"/>), so document changes apply in order; completions continue off the dispatch thread.
/// </summary>
public sealed class LanguageServer(CompletionService completions, DocumentStore documents, ServerLog log, string version, AcceptanceLog? events = null, string model = "")
{
    // An int, not the enum field itself, so Interlocked can move it from Waiting to Running exactly once.
    private int state = (int)Lifecycle.Waiting;

    private enum Lifecycle { Waiting, Running, ShutDown }
    private readonly TaskCompletionSource<int> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the process exit code when `exit` arrives (0 after shutdown, 1 otherwise).</summary>
    public Task<int> Exited => exited.Task;

    public bool ShutdownRequested => (Lifecycle)Volatile.Read(ref state) == Lifecycle.ShutDown;

    public int? ClientProcessId { get; private set; }

    private readonly ContextRanker ranker = new();
    private Workspace workspace = new(null);

    [JsonRpcMethod("initialize", UseSingleObjectParameterDeserialization = true)]
    public InitializeResult Initialize(JsonElement? json)
    {
        var p = Parse<InitializeParams>(json);
        if (Interlocked.CompareExchange(ref state, (int)Lifecycle.Running, (int)Lifecycle.Waiting) != (int)Lifecycle.Waiting)
            throw Error(ErrorCodes.InvalidRequest, "initialize may be sent only once");
        ClientProcessId = p?.ProcessId;
        workspace = new Workspace(p?.WorkspaceFolders?.FirstOrDefault()?.Uri ?? p?.RootUri);
        completions.Settings = completions.Settings.With(p?.InitializationOptions, log.Warn);
        // The completion list is the fallback for clients without inline completions: offering it to a client that has
        // them would put the same text in its suggest widget and double the requests while typing.
        var clientHasInline = p?.Capabilities is { ValueKind: JsonValueKind.Object } caps
            && caps.TryGetProperty("textDocument", out var td) && td.ValueKind == JsonValueKind.Object
            && td.TryGetProperty("inlineCompletion", out _);
        log.Info($"initialize from {p?.ClientInfo?.Name ?? "an unnamed client"} {p?.ClientInfo?.Version} (inline completions: {clientHasInline}); settings {Describe(completions.Settings)}");
        return new InitializeResult(
            new ServerCapabilities(
                PositionEncoding: "utf-16",
                TextDocumentSync: new TextDocumentSyncOptions(OpenClose: true, Change: 2),
                InlineCompletionProvider: true,
                CompletionProvider: clientHasInline ? null : new CompletionOptions(TriggerCharacters: [], ResolveProvider: false)),
            new ServerInfo("codelm", version));
    }

    [JsonRpcMethod("initialized", UseSingleObjectParameterDeserialization = true)]
    public void Initialized(JsonElement? _ = null) => log.Info("client initialized");

    [JsonRpcMethod("shutdown")]
    public object? Shutdown()
    {
        RequireRunning();
        Volatile.Write(ref state, (int)Lifecycle.ShutDown);
        log.Info("shutdown requested");
        return null;
    }

    [JsonRpcMethod("exit")]
    public void Exit()
    {
        log.Info("exit");
        exited.TrySetResult(ShutdownRequested ? 0 : 1);
    }

    [JsonRpcMethod("workspace/didChangeConfiguration", UseSingleObjectParameterDeserialization = true)]
    public void DidChangeConfiguration(JsonElement? json)
    {
        var p = ParseNotification<DidChangeConfigurationParams>(json, "DidChangeConfiguration");
        completions.Settings = completions.Settings.With(p?.Settings, log.Warn);
        completions.Cache.Clear();
        log.Info($"settings {Describe(completions.Settings)}");
    }

    [JsonRpcMethod("textDocument/didOpen", UseSingleObjectParameterDeserialization = true)]
    public void DidOpen(JsonElement? json)
    {
        var p = ParseNotification<DidOpenTextDocumentParams>(json, "DidOpen");
        if (p?.TextDocument?.Uri is not { } uri) { log.Warn("didOpen without a textDocument ignored"); return; }
        documents.Open(p.TextDocument);
        log.Debug($"open {uri} ({p.TextDocument.LanguageId}, v{p.TextDocument.Version}, {p.TextDocument.Text?.Length ?? 0} chars)");
    }

    [JsonRpcMethod("textDocument/didChange", UseSingleObjectParameterDeserialization = true)]
    public void DidChange(JsonElement? json)
    {
        var p = ParseNotification<DidChangeTextDocumentParams>(json, "DidChange");
        if (p?.TextDocument?.Uri is not { } uri || p.ContentChanges == null) { log.Warn("didChange without a textDocument or changes ignored"); return; }
        if (!documents.Change(uri, p.TextDocument.Version, p.ContentChanges.Where(c => c != null).ToList()))
            log.Warn($"didChange for {uri}, which is not open, ignored");
    }

    [JsonRpcMethod("textDocument/didClose", UseSingleObjectParameterDeserialization = true)]
    public void DidClose(JsonElement? json)
    {
        var p = ParseNotification<DidCloseTextDocumentParams>(json, "DidClose");
        if (p?.TextDocument?.Uri is not { } uri) return;
        documents.Close(uri);
        ranker.Forget(uri);
        completions.Forget(InlineKey(uri));
        completions.Forget(ListKey(uri));
    }

    [JsonRpcMethod("textDocument/didSave", UseSingleObjectParameterDeserialization = true)]
    public void DidSave(JsonElement? _ = null) { }

    [JsonRpcMethod("textDocument/inlineCompletion", UseSingleObjectParameterDeserialization = true)]
    public async Task<InlineCompletionList> InlineCompletion(JsonElement? json, CancellationToken ct)
    {
        var p = Parse<InlineCompletionParams>(json);
        var (doc, cursor) = Locate(p?.TextDocument, p?.Position);
        if (doc == null) return InlineCompletionList.Empty;
        var text = doc.Text;
        var offset = TextDocument.OffsetOf(text, cursor);
        // LSP's triggerKind 1 is Invoked: the user cycled candidates or asked by hand.
        var candidates = completions.Settings.CandidatesFor(explicitRequest: p?.Context?.TriggerKind == 1);
        var outcome = await completions.CompleteAsync(InlineKey(doc.Uri), text, offset, doc.LanguageId, ct, candidates, RepoOf(doc));
        var start = TextDocument.PositionOf(text, offset);
        return new InlineCompletionList(outcome.Completions
            .Select(c => new InlineCompletionItem(c.InsertText, new Protocol.Range(start, TextDocument.PositionOf(text, offset + c.ReplaceLength))))
            .ToList());
    }

    [JsonRpcMethod("textDocument/completion", UseSingleObjectParameterDeserialization = true)]
    public async Task<CompletionList> Completion(JsonElement? json, CancellationToken ct)
    {
        var p = Parse<CompletionParams>(json);
        var (doc, cursor) = Locate(p?.TextDocument, p?.Position);
        if (doc == null) return new CompletionList(false, []);
        var text = doc.Text;
        var offset = TextDocument.OffsetOf(text, cursor);
        var outcome = await completions.CompleteAsync(ListKey(doc.Uri), text, offset, doc.LanguageId, ct, 1, RepoOf(doc));
        if (outcome.Completion is not { } c) return new CompletionList(false, []);
        var start = TextDocument.PositionOf(text, offset);
        var end = TextDocument.PositionOf(text, offset + c.ReplaceLength);
        // The edit starts at the cursor, so the client filters on nothing typed and nothing typed is lost.
        var firstLine = c.InsertText.Split('\n')[0];
        var label = firstLine.Trim().Length > 0 ? firstLine.Trim() : c.InsertText.Trim();
        var item = new CompletionItem(
            Label: label.Length > 80 ? label[..80] + "…" : label,
            Kind: 1,
            Detail: "codelm",
            FilterText: c.InsertText,
            InsertTextFormat: 1,
            TextEdit: new TextEdit(new Protocol.Range(start, end), c.InsertText),
            SortText: "0");
        return new CompletionList(false, [item]);
    }

    /// <summary>
    /// CodeLm's own notification: what became of a completion in the editor (see <see cref="AcceptanceKind"/>). Appended to
    /// the local acceptance log unless the user turned it off; a malformed event is logged and dropped.
    /// </summary>
    [JsonRpcMethod("codelm/event", UseSingleObjectParameterDeserialization = true)]
    public void Event(JsonElement? json)
    {
        var p = ParseNotification<EventParams>(json, "codelm/event");
        if (events == null || !completions.Settings.AcceptanceLog || p == null) return;
        if (!Enum.TryParse<AcceptanceKind>(p.Kind, ignoreCase: true, out var kind) || string.IsNullOrWhiteSpace(p.LanguageId)
            || p.LatencyMs is < 0 || p.Chars is < 0)
        {
            log.Warn($"codelm/event ignored: kind '{p.Kind}', languageId '{p.LanguageId}', latencyMs {p.LatencyMs}, chars {p.Chars}");
            return;
        }
        try { events.Append(new AcceptanceEvent(DateTimeOffset.UtcNow, kind, model, p.LanguageId, p.LatencyMs, p.Chars)); }
        catch (IOException e) { log.Warn($"acceptance log {events.Path}: {e.Message}"); }
    }

    /// <summary>
    /// CodeLm's own request behind the editor's "Translate Selection to…": the code, its editor language id, and the target
    /// language (a name or an alias: "C++", "cpp", "rust"); answers the translated code.
    /// </summary>
    [JsonRpcMethod("codelm/translate", UseSingleObjectParameterDeserialization = true)]
    public async Task<TranslateResult> Translate(JsonElement? json, CancellationToken ct)
    {
        RequireRunning();
        var p = Parse<TranslateParams>(json);
        if (string.IsNullOrWhiteSpace(p?.Text) || string.IsNullOrWhiteSpace(p.LanguageId) || string.IsNullOrWhiteSpace(p.To))
            throw Error(ErrorCodes.InvalidParams, "text, languageId and to are required");
        var from = LanguageTable.FromLspId(p.LanguageId);
        var to = LanguageTable.Find(p.To)?.Name ?? LanguageTable.FromEvalName(p.To.ToLowerInvariant())?.Name
            ?? throw Error(ErrorCodes.InvalidParams, $"'{p.To}' is not a language CodeLm knows");
        try
        {
            var text = await completions.TranslateAsync(p.Text, from, to, p.MaxNewTokens is > 0 and var n ? n : TranslateParams.DefaultMaxNewTokens, ct);
            return new TranslateResult(text, from, to);
        }
        catch (PromptTooLongException e) { throw Error(ErrorCodes.InvalidParams, e.Message); }
    }

    /// <summary>The document's place in the workspace, and its context from the other open and recently closed files.</summary>
    private RepoContextRequest RepoOf(TextDocument doc) =>
        new(workspace.Name, workspace.PathOf(doc.Uri), (text, offset) => ranker.Rank(text, offset,
            documents.Others(doc.Uri).Select(d => new ContextRanker.Source(d.Uri, d.Version, workspace.PathOf(d.Uri), d.Text))));

    private static string InlineKey(string uri) => "inline " + uri;
    private static string ListKey(string uri) => "list " + uri;

    private (TextDocument? Doc, Position Cursor) Locate(TextDocumentIdentifier? id, Position? position)
    {
        RequireRunning();
        if (id?.Uri == null || position == null) throw Error(ErrorCodes.InvalidParams, "textDocument and position are required");
        var doc = documents.Get(id.Uri);
        if (doc == null) { log.Warn($"completion for {id.Uri}, which is not open"); return (null, position); }
        if (!completions.Settings.IsEnabledFor(doc.LanguageId)) return (null, position);
        return (doc, position);
    }

    private void RequireRunning()
    {
        switch ((Lifecycle)Volatile.Read(ref state))
        {
            case Lifecycle.Waiting: throw Error(ErrorCodes.ServerNotInitialized, "the server has not been initialized");
            case Lifecycle.ShutDown: throw Error(ErrorCodes.InvalidRequest, "the server is shutting down");
        }
    }

    /// <summary>Request parameters; a shape that does not fit is InvalidParams (StreamJsonRpc would report a generic failure).</summary>
    private static T? Parse<T>(JsonElement? json) where T : class
    {
        if (json is not { ValueKind: JsonValueKind.Object } e) return null;
        try { return e.Deserialize<T>(Json); }
        catch (JsonException x) { throw Error(ErrorCodes.InvalidParams, "Invalid params: " + x.Message); }
    }

    private T? ParseNotification<T>(JsonElement? json, string method) where T : class
    {
        try { return Parse<T>(json); }
        catch (LocalRpcException x) { log.Warn($"{method}: {x.Message}"); return null; }
    }

    private static readonly JsonSerializerOptions Json = LspServerHost.JsonOptions();

    private static LocalRpcException Error(int code, string message) => new(message) { ErrorCode = code };

    private static string Describe(CompletionSettings s) =>
        $"maxNewTokens={s.MaxNewTokens} temperature={s.Temperature} contextBudget={s.ContextBudget} prefixShare={s.PrefixShare} " +
        $"enabledLanguages=[{string.Join(",", s.EnabledLanguages)}] enabled={s.Enabled} candidates={s.Candidates} ({s.CandidateMode}, temperature {s.CandidateTemperature}) repoContext={s.RepoContext} ({s.RepoContextTokens} tokens) acceptanceLog={s.AcceptanceLog}";
}
