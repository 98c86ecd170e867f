namespace CodeLm.Tokenizer;

/// <summary>
/// A directory given as a tokenizer that holds no tokenizer.json. Carries what the directory does hold
/// (<see cref="Found"/>), so the error can say what was given instead of only what is missing.
/// A <see cref="FileNotFoundException"/>, as the missing file is the fault.
/// </summary>
public sealed class TokenizerNotFoundException(string directory, IReadOnlyList<string> found)
    : FileNotFoundException(Describe(directory, found), System.IO.Path.Combine(directory, TokenizerFiles.TokenizerJson))
{
    public string Directory { get; } = directory;
    public IReadOnlyList<string> Found { get; } = found;

    /// <summary>What a tokenizer directory may be.</summary>
    public const string Supported =
        "a CodeLm tokenizer directory (from `codelm tokenizer train`) or a Hugging Face model folder with a byte-level BPE tokenizer.json " +
        "(GPT-2, StarCoder, Qwen2, DeepSeek-Coder families)";

    /// <summary>The entries of <paramref name="directory"/>, or none when it does not exist.</summary>
    public static TokenizerNotFoundException For(string directory) => new(System.IO.Path.GetFullPath(directory),
        System.IO.Directory.Exists(directory)
            ? [.. System.IO.Directory.EnumerateFileSystemEntries(directory).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).Cast<string>()]
            : []);

    private static string Describe(string directory, IReadOnlyList<string> found)
    {
        var what = !System.IO.Directory.Exists(directory) ? "does not exist"
            : found.Count == 0 ? "is empty"
            : $"has no {TokenizerFiles.TokenizerJson} (it holds {string.Join(", ", found.Take(8))}{(found.Count > 8 ? $" and {found.Count - 8} more" : "")})";
        return $"'{directory}' {what}; a tokenizer is {Supported}.";
    }
}
