using System.Collections.Concurrent;
using CodeLm.Model.Generation;

namespace CodeLm.Server.Context;

/// <summary>
/// Picks the parts of other files worth putting before the prompt, best first (CodeGeeX4's cross-file mode and Tabby's
/// declarations and snippets): first the definitions of identifiers used above the cursor that the file does not
/// define itself, nearest use first; then windows of other files by Jaccard similarity of identifiers with the lines
/// above the cursor. Only complete lines above the cursor's line are read, so the choice, and the model's cache of the
/// context, stay the same while the user types on a line. The engine packs the result under its token budget.
/// </summary>
public sealed class ContextRanker
{
    public const int QueryLines = 40, MaxPieces = 16;

    private readonly ConcurrentDictionary<string, (int Version, CodeSnippets Snippets)> cache = new(StringComparer.Ordinal);

    /// <summary>A file the ranker may take from: an open or recently closed document.</summary>
    public sealed record Source(string Uri, int Version, string Path, string Text);

    public IReadOnlyList<ContextFile> Rank(string text, int offset, IEnumerable<Source> others)
    {
        var lineStart = offset <= 0 ? 0 : text.LastIndexOf('\n', Math.Min(offset, text.Length) - 1) + 1;
        var above = LastLines(text[..lineStart], QueryLines);
        var query = CodeIdentifiers.Of(above);
        if (query.Count == 0) return [];
        var defined = new CodeSnippets("", text).Definitions;
        var files = others.Select(Snippets).ToList();
        var picked = new List<Snippet>();

        foreach (var name in ByLastUse(above, query))
        {
            if (defined.ContainsKey(name)) continue;
            foreach (var f in files)
                if (f.Definitions.TryGetValue(name, out var d) && !picked.Contains(d) && picked.Count < MaxPieces) picked.Add(d);
        }
        var windows = files.SelectMany(f => f.Windows)
            .Select(w => (Window: w, Score: CodeIdentifiers.Jaccard(query, w.Identifiers)))
            .Where(x => x.Score > 0)
            .OrderByDescending(x => x.Score).ThenBy(x => x.Window.Path, StringComparer.Ordinal).ThenBy(x => x.Window.StartLine);
        foreach (var (w, _) in windows)
        {
            if (picked.Count >= MaxPieces) break;
            if (!picked.Any(p => p.Path == w.Path && Overlaps(p, w))) picked.Add(w);
        }
        return picked.Select(p => new ContextFile(p.Path, p.Text)).ToList();
    }

    /// <summary>Drops the cached cut of a document that is gone.</summary>
    public void Forget(string uri) => cache.TryRemove(uri, out _);

    private CodeSnippets Snippets(Source s)
    {
        if (cache.TryGetValue(s.Uri, out var c) && c.Version == s.Version) return c.Snippets;
        var snippets = new CodeSnippets(s.Path, s.Text);
        cache[s.Uri] = (s.Version, snippets);
        return snippets;
    }

    /// <summary>The identifiers of <paramref name="query"/> in the order of their last use in <paramref name="text"/>, latest first.</summary>
    private static IEnumerable<string> ByLastUse(string text, HashSet<string> query) =>
        query.OrderByDescending(id => LastWordIndex(text, id)).ThenBy(id => id, StringComparer.Ordinal);

    private static int LastWordIndex(string text, string word)
    {
        for (var at = text.LastIndexOf(word, StringComparison.Ordinal); at >= 0; at = at == 0 ? -1 : text.LastIndexOf(word, at - 1, StringComparison.Ordinal))
        {
            var end = at + word.Length;
            if ((at == 0 || !IsWordChar(text[at - 1])) && (end == text.Length || !IsWordChar(text[end]))) return at;
        }
        return -1;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static bool Overlaps(Snippet a, Snippet b) => a.StartLine < b.StartLine + b.LineCount && b.StartLine < a.StartLine + a.LineCount;

    private static string LastLines(string text, int n)
    {
        var at = text.Length;
        for (var i = 0; i <= n && at > 0; i++) at = text.LastIndexOf('\n', at - 1) is var j && j < 0 ? 0 : j;
        return text[at..];
    }
}
