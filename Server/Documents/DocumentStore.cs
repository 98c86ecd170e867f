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

    /// <summary>Closed documents kept for repository context, newest last: a file just worked on is likely related.</summary>
    public const int RecentlyClosed = 20;
    private readonly LinkedList<TextDocument> closed = new();
    private readonly Lock closedGate = new();

    public void Close(string uri)
    {
        if (!documents.TryRemove(uri, out var doc)) return;
        lock (closedGate)
        {
            Forget(uri);
            closed.AddLast(doc);
            if (closed.Count > RecentlyClosed) closed.RemoveFirst();
        }
    }

    public TextDocument? Get(string uri) => documents.GetValueOrDefault(uri);

    /// <summary>Every open document but <paramref name="uri"/>, then the recently closed ones not open again.</summary>
    public List<TextDocument> Others(string uri)
    {
        var open = documents.Values.Where(d => d.Uri != uri).OrderBy(d => d.Uri, StringComparer.Ordinal).ToList();
        lock (closedGate)
            open.AddRange(closed.Reverse().Where(d => d.Uri != uri && !documents.ContainsKey(d.Uri)));
        return open;
    }

    private void Forget(string uri)
    {
        for (var node = closed.First; node != null; node = node.Next)
            if (node.Value.Uri == uri) { closed.Remove(node); return; }
    }
}
