namespace CodeLm.Tokenizer;

/// <summary>
/// The repository-level format a model learned: Qwen2.5-Coder's <c>&lt;|repo_name|&gt;name\n&lt;|file_sep|&gt;path\ncode\n…</c>,
/// StarCoder2's <c>&lt;repo_name&gt;name&lt;file_sep&gt;path\ncode…</c>, or, for models with neither (CodeLm's own), each file
/// under a comment naming its path, in the language's comment syntax.
/// </summary>
public enum RepoLayout { CommentHeaders, Qwen, StarCoder2 }
