using CodeLm.Tokenizer;
using System.Collections.Concurrent;
using CodeLm.Model.Generation;

namespace CodeLm.Server.Context;

/// <summary>
/// Picks the parts of other files worth putting before the prompt, best first (CodeGeeX4's cross-file mode and Tabby's
/// declarations and snippets): first the definitions of identifiers used above the cursor (imports at the top
/// included) that the file does not define itself, nearest use first; then windows of other files by Jaccard
/// similarity of identifiers with the last <see cref="QueryLines"/> lines above the cursor. Only complete lines above the cursor's line are read, so the choice, and the model's cache of the
/// context, stay the same while the user types on a line. The engine packs the result under its token budget.
/// </summary>
public sealed class ContextRanker
{
    public const int QueryLines = 40, MaxPieces = 64;

    private readonly ConcurrentDictionary<string, (int Version, CodeSnippets Snippets)> cache = new(StringComparer.Ordinal);

    // The last answer: typing on a line asks again with the same lines above and the same other files.
    private (string Above, string Others, bool Definitions, IReadOnlyList<ContextFile> Files)? last;
    private readonly Lock lastGate = new();

    /// <summary>A file the ranker may take from: an open or recently closed document.</summary>
    public sealed record Source(string Uri, int Version, string Path, string Text);

    /// <summary>The pieces, best first; <paramref name="definitions"/> false ranks windows only (for measuring what definitions add).</summary>
    public IReadOnlyList<ContextFile> Rank(string text, int offset, IEnumerable<Source> others, bool definitions = true)
    {
        var lineStart = offset <= 0 ? 0 : text.LastIndexOf('\n', Math.Min(offset, text.Length) - 1) + 1;
        var allAbove = text[..lineStart];
        var sources = others.ToList();
        var signature = string.Join('\n', sources.Select(o => $"{o.Uri} {o.Version}"));
        lock (lastGate)
            if (last is { } l && l.Definitions == definitions && l.Above == allAbove && l.Others == signature) return l.Files;
        var ranked = RankNow(text, allAbove, sources, definitions);
        lock (lastGate) last = (allAbove, signature, definitions, ranked);
        return ranked;
    }

    private IReadOnlyList<ContextFile> RankNow(string text, string allAbove, List<Source> others, bool definitions)
    {
        var above = LastLines(allAbove, QueryLines);
        var query = CodeIdentifiers.Of(above);
        if (query.Count == 0) return [];
        var defined = new CodeSnippets("", text).Definitions;
        var files = others.Select(Snippets).ToList();
        var picked = new List<Snippet>();

        foreach (var name in definitions ? ByLastUse(allAbove, CodeIdentifiers.Of(allAbove)) : [])
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
        return Merged(picked);
    }

    /// <summary>
    /// Definitions from the same file as one piece (at the first one's rank), so their path header is paid once; windows
    /// stay pieces of their own.
    /// </summary>
    private static List<ContextFile> Merged(List<Snippet> picked)
    {
        var pieces = new List<(string Path, List<string> Texts, bool Definitions)>();
        foreach (var p in picked)
        {
            var isDefinition = !p.IsWindow;
            var at = isDefinition ? pieces.FindIndex(x => x.Definitions && x.Path == p.Path) : -1;
            if (at >= 0) pieces[at].Texts.Add(p.Text);
            else pieces.Add((p.Path, [p.Text], isDefinition));
        }
        return pieces.Select(x => new ContextFile(x.Path, string.Join("\n", x.Texts))).ToList();
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
