using CodeLm.Common;
using System.IO.Compression;
using System.Reflection;
using System.Text.Json;

namespace CodeLm.Eval.Problems;

/// <summary>
/// Loads problems from HumanEval JSONL (task_id, prompt, canonical_solution, test, entry_point) or the HumanEval-X layout
/// (task ids like "CPP/0", plus declaration and example_test), gzip or plain; and the built-in problem set.
/// </summary>
public static class ProblemSet
{
    public const string BuiltinName = "builtin";

    /// <summary>
    /// Loads a problem file. <paramref name="language"/> overrides the language for ids without a known prefix. With
    /// <paramref name="skipped"/>, a line that is not a problem (bad JSON, a missing field, a repeated id) is added there
    /// and the rest still load; without it, the first such line throws.
    /// </summary>
    public static IReadOnlyList<Problem> Load(string path, string? language = null, ICollection<InvalidDataException>? skipped = null)
    {
        if (path == BuiltinName) return LoadBuiltin();
        if (!File.Exists(path)) throw new FileNotFoundException($"problem file not found: {path}", path);
        using var stream = OpenMaybeGzip(path);
        return Parse(stream, path, language, skipped);
    }

    /// <summary>The small problem set written for this project: a few problems per language with canonical solutions.</summary>
    public static IReadOnlyList<Problem> LoadBuiltin()
    {
        using var stream = OpenBuiltin();
        return Parse(stream, "builtin.jsonl", null);
    }

    /// <summary>
    /// The sha256 of a problem file as stored (compressed or not), or of the built-in set: how a corpus's decontamination
    /// record names the benchmarks it removed.
    /// </summary>
    public static string Sha256(string path)
    {
        using var stream = path == BuiltinName ? OpenBuiltin() : File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    private static Stream OpenBuiltin() =>
        typeof(ProblemSet).Assembly.GetManifestResourceStream("CodeLm.Eval.Problems.builtin.jsonl")
        ?? throw new InvalidOperationException("the built-in problem set is missing from the assembly");

    /// <summary>Opens a file, transparently gunzipping it when it starts with the gzip magic bytes.</summary>
    public static Stream OpenMaybeGzip(string path)
    {
        var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        var read = file.Read(magic);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    public static IReadOnlyList<Problem> Parse(Stream stream, string sourceName, string? language, ICollection<InvalidDataException>? skipped = null)
    {
        var forced = language is null ? null : EvalLanguages.Normalize(language)
            ?? throw new ArgumentException($"unsupported language '{language}' (supported: {string.Join(", ", EvalLanguages.All)})");
        var problems = new List<Problem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var reader = new StreamReader(stream);
        string? line;
        var lineNo = 0;
        try
        {
            while ((line = reader.ReadLine()) != null)
            {
                lineNo++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                try
                {
                    var p = ParseLine(line, forced, sourceName, lineNo);
                    if (!seen.Add(p.TaskId)) throw new InvalidDataException($"{sourceName}:{lineNo}: duplicate task_id '{p.TaskId}'");
                    problems.Add(p);
                }
                catch (InvalidDataException e) when (skipped is not null)
                {
                    skipped.Add(e);
                }
            }
        }
        catch (InvalidDataException e) when (e.InnerException is null && e.Message.Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{sourceName}: corrupt gzip data ({e.Message})", e);
        }
        if (problems.Count == 0) throw new InvalidDataException($"{sourceName}: no problems found" + (skipped?.FirstOrDefault() is { } first ? $" ({first.Message})" : ""));
        return problems;
    }

    private static Problem ParseLine(string line, string? forced, string source, int lineNo)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(line).RootElement; }
        catch (JsonException e) { throw new InvalidDataException($"{source}:{lineNo}: not valid JSON ({e.Message})"); }
        string Req(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()! : throw new InvalidDataException($"{source}:{lineNo}: missing string field '{name}'");
        string? Opt(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        var taskId = Req("task_id");
        var language = forced ?? (Opt("language") is { } l ? EvalLanguages.Normalize(l) : null) ?? EvalLanguages.FromTaskId(taskId)
            ?? throw new UnknownProblemLanguageException(source, lineNo, taskId);
        var entry = Opt("entry_point") ?? "";
        return new Problem(taskId, language, Req("prompt"), Opt("canonical_solution") ?? "", Req("test"), entry,
            Opt("declaration"), Opt("example_test"));
    }
}

/// <summary>A problem whose language neither its record nor its task id names; loading again with a language fixes it.</summary>
public sealed class UnknownProblemLanguageException(string source, int line, string taskId)
    : FormatException($"{source}:{line}: cannot tell the language of '{taskId}'; name the language when loading")
{
    public string File { get; } = source;
    public int Line { get; } = line;
    public string TaskId { get; } = taskId;
}
