using System.Collections.Concurrent;
using CodeLm.Server.Protocol;

namespace CodeLm.Server.Documents;

/// <summary>The open documents by uri. Calls arrive in protocol order (the server dispatches without concurrency).</summary>
public sealed class DocumentStore
{
    private readonly ConcurrentDictionary<string, TextDocument> documents = new(StringComparer.Ordinal);

    public int Count => documents.Count;

    public void Open(TextDocumentItem item) =>
        documents[item.Uri] = new TextDocument(item.Uri, item.LanguageId ?? "plaintext", item.Version, item.Text ?? "");

    /// <summary>False when the document is not open (the change is then dropped).</summary>
    public bool Change(string uri, int version, IReadOnlyList<TextDocumentContentChangeEvent> changes)
    {
        if (!documents.TryGetValue(uri, out var doc)) return false;
        doc.Apply(version, changes);
        return true;
    }

    public void Close(string uri) => documents.TryRemove(uri, out _);

    public TextDocument? Get(string uri) => documents.GetValueOrDefault(uri);
}
