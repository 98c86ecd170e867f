namespace CodeLm.Server.Documents;

/// <summary>
/// The folder the editor opened (the first of `workspaceFolders`, else `rootUri`): it names the repository in the
/// model's repository-context layout, and documents are named by their path in it.
/// </summary>
public sealed class Workspace(string? rootUri)
{
    private readonly string? root = LocalPath(rootUri)?.TrimEnd('/');

    /// <summary>The folder's name, or "" when the editor opened none.</summary>
    public string Name => root == null ? "" : Path.GetFileName(root);

    /// <summary>A document's path relative to the folder when it is inside it, else its file name (the uri when not a file).</summary>
    public string PathOf(string uri)
    {
        var local = LocalPath(uri);
        if (local == null) return uri;
        return root != null && local.StartsWith(root + "/", StringComparison.Ordinal) ? local[(root.Length + 1)..] : Path.GetFileName(local);
    }

    private static string? LocalPath(string? uri) =>
        uri != null && Uri.TryCreate(uri, UriKind.Absolute, out var u) && u.IsFile ? u.LocalPath : null;
}
