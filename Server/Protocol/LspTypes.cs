using System.Text.Json;

namespace CodeLm.Server.Protocol;

// The subset of the Language Server Protocol 3.18 this server speaks. Property names follow the specification
// (camelCase on the wire through the serializer's naming policy); optional members are nullable and omitted when null.

public sealed record Position(int Line, int Character);

public sealed record Range(Position Start, Position End);

public sealed record TextDocumentIdentifier(string Uri);

public sealed record VersionedTextDocumentIdentifier(string Uri, int Version);

public sealed record TextDocumentItem(string Uri, string LanguageId, int Version, string Text);

public sealed record DidOpenTextDocumentParams(TextDocumentItem TextDocument);

/// <summary>An incremental change when <see cref="Range"/> is set, the whole new text otherwise.</summary>
public sealed record TextDocumentContentChangeEvent(Range? Range, int? RangeLength, string Text);

public sealed record DidChangeTextDocumentParams(VersionedTextDocumentIdentifier TextDocument, IReadOnlyList<TextDocumentContentChangeEvent> ContentChanges);

public sealed record DidCloseTextDocumentParams(TextDocumentIdentifier TextDocument);

public sealed record SelectedCompletionInfo(Range Range, string Text);

/// <summary>TriggerKind: 1 = Invoked (explicit), 2 = Automatic (while typing).</summary>
public sealed record InlineCompletionContext(int TriggerKind, SelectedCompletionInfo? SelectedCompletionInfo);

public sealed record InlineCompletionParams(TextDocumentIdentifier TextDocument, Position Position, InlineCompletionContext? Context);

public sealed record InlineCompletionItem(string InsertText, Range? Range, string? FilterText = null);

public sealed record InlineCompletionList(IReadOnlyList<InlineCompletionItem> Items)
{
    public static InlineCompletionList Empty { get; } = new([]);
}

public sealed record CompletionContext(int TriggerKind, string? TriggerCharacter);

public sealed record CompletionParams(TextDocumentIdentifier TextDocument, Position Position, CompletionContext? Context);

public sealed record TextEdit(Range Range, string NewText);

/// <summary>Kind 1 = Text; InsertTextFormat 1 = PlainText.</summary>
public sealed record CompletionItem(string Label, int Kind, string Detail, string FilterText, int InsertTextFormat, TextEdit TextEdit, string SortText);

public sealed record CompletionList(bool IsIncomplete, IReadOnlyList<CompletionItem> Items);

public sealed record ClientInfo(string Name, string? Version);

public sealed record WorkspaceFolder(string Uri, string? Name);

public sealed record InitializeParams(int? ProcessId, ClientInfo? ClientInfo, JsonElement? Capabilities, JsonElement? InitializationOptions, string? RootUri,
    IReadOnlyList<WorkspaceFolder>? WorkspaceFolders = null);

public sealed record ServerInfo(string Name, string Version);

/// <summary>Change 2 = Incremental.</summary>
public sealed record TextDocumentSyncOptions(bool OpenClose, int Change);

public sealed record CompletionOptions(IReadOnlyList<string> TriggerCharacters, bool ResolveProvider);

public sealed record ServerCapabilities(
    string PositionEncoding,
    TextDocumentSyncOptions TextDocumentSync,
    bool InlineCompletionProvider,
    CompletionOptions? CompletionProvider);

public sealed record InitializeResult(ServerCapabilities Capabilities, ServerInfo ServerInfo);

public sealed record DidChangeConfigurationParams(JsonElement? Settings);

/// <summary>JSON-RPC and LSP error codes used by this server.</summary>
public static class ErrorCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;
    public const int ServerNotInitialized = -32002;
    public const int RequestCancelled = -32800;
}

/// <summary>Params of <c>codelm/translate</c>: the code, its editor language id, the target language, and a token budget (default 1024).</summary>
public sealed record TranslateParams(string? Text, string? LanguageId, string? To, int? MaxNewTokens = null)
{
    public const int DefaultMaxNewTokens = 1024;
}

/// <summary>The answer of <c>codelm/translate</c>, with the languages as CodeLm named them.</summary>
public sealed record TranslateResult(string Text, string From, string To);

/// <summary>Params of the <c>codelm/event</c> notification (kind: shown, accepted, partial, dismissed, superseded).</summary>
public sealed record EventParams(string? Kind, string? LanguageId, double? LatencyMs = null, int? Chars = null);
