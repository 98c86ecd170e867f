using CodeLm.Common.Completion;

namespace CodeLm.Server.Completion;

/// <summary>
/// The items last answered for a document and the text around the cursor they were made for. A user who types along
/// one of them, or accepts part of it (next word, next line), gets what is left of it without a new generation.
/// <paramref name="Asked"/>: the candidates the request asked for, so a later request for more is not answered with fewer.
/// </summary>
public sealed record ShownCompletion(string Prefix, string Suffix, IReadOnlyList<ShapedCompletion> Items, int Asked)
{
    /// <summary>
    /// The rest of every item the text typed since (<paramref name="prefix"/> past <see cref="Prefix"/>, the suffix
    /// unchanged) still begins, in the same order; null when the user typed nothing, went elsewhere, or finished them all.
    /// </summary>
    public IReadOnlyList<ShapedCompletion>? After(string prefix, string suffix)
    {
        if (prefix.Length <= Prefix.Length || !string.Equals(suffix, Suffix, StringComparison.Ordinal)
            || !prefix.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var typed = prefix[Prefix.Length..];
        var rest = new List<ShapedCompletion>();
        foreach (var item in Items)
            if (item.InsertText.Length > typed.Length && item.InsertText.StartsWith(typed, StringComparison.Ordinal)
                && item.InsertText.AsSpan(typed.Length).ContainsAnyExcept(" \t\r\n"))
                rest.Add(item with { InsertText = item.InsertText[typed.Length..] });
        return rest.Count > 0 ? rest : null;
    }
}
