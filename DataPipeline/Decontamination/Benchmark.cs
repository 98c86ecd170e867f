using CodeLm.Common;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace CodeLm.DataPipeline.Decontamination;

/// <summary>One benchmark problem's texts that must not be in training data: its prompt (with the docstring) and its solution.</summary>
public sealed record BenchmarkProblem(string Id, string Prompt, string Solution);

/// <summary>
/// A benchmark to decontaminate against: its name, where it came from, the sha256 of that file (how the eval recognises it
/// later), and its problems.
/// </summary>
public sealed record Benchmark(string Name, string Source, string Sha256, IReadOnlyList<BenchmarkProblem> Problems)
{
    /// <summary>
    /// Reads a jsonl or jsonl.gz file of problems: HumanEval's and HumanEval-X's layout (prompt, canonical_solution,
    /// declaration), or any jsonl with a prompt and a solution field (solution, completion, canonical_solution, code).
    /// </summary>
    public static Benchmark Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"benchmark file not found: {path}", path);
        var bytes = File.ReadAllBytes(path);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? (Stream)new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress) : new MemoryStream(bytes);
        using var reader = new StreamReader(stream);
        var problems = new List<BenchmarkProblem>();
        int lineNo = 0;
        for (var line = reader.ReadLine(); line != null; line = reader.ReadLine())
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            problems.Add(Parse(path, lineNo, line));
        }
        if (problems.Count == 0) throw new InvalidDataException($"{path} holds no problems");
        return new Benchmark(NameOf(path), Path.GetFullPath(path), sha, problems);
    }

    /// <summary>
    /// Every benchmark file named; a directory stands for the jsonl and jsonl.gz files in it (HumanEval-X's layout), each
    /// named after both ("humaneval-x/cpp").
    /// </summary>
    public static List<Benchmark> LoadAll(IEnumerable<string> paths)
    {
        var all = new List<Benchmark>();
        foreach (var path in paths)
        {
            if (!Directory.Exists(path)) { all.Add(Load(path)); continue; }
            var dir = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
            var files = ProblemFiles.InDirectory(path);
            if (files.Count == 0) throw new FileNotFoundException($"{path} holds no .jsonl or .jsonl.gz benchmark file", path);
            all.AddRange(files.Select(f => Load(f) is var b ? b with { Name = $"{dir}/{b.Name}" } : null!));
        }
        return all;
    }

    private static BenchmarkProblem Parse(string path, int lineNo, string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var o = doc.RootElement;
            string? Field(params string[] names) =>
                names.Select(n => o.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null).FirstOrDefault(v => v != null);
            var prompt = Field("prompt") ?? "";
            var solution = Field("canonical_solution", "solution", "completion", "code") ?? "";
            if (prompt.Length == 0 && solution.Length == 0)
                throw new InvalidDataException($"{path}:{lineNo}: no prompt or solution field (expected prompt, and canonical_solution, solution, completion or code)");
            return new BenchmarkProblem(Field("task_id", "id", "name") ?? $"line {lineNo}", prompt, solution);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{lineNo}: not a JSON object: {e.Message}", e);
        }
    }

    /// <summary>"HumanEval" for HumanEval.jsonl.gz, "humaneval_cpp" for humaneval_cpp.jsonl.gz.</summary>
    private static string NameOf(string path)
    {
        var name = Path.GetFileName(path);
        foreach (var ext in new[] { ".gz", ".jsonl", ".json" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) name = name[..^ext.Length];
        return name;
    }
}
