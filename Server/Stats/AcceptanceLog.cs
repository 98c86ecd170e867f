using System.Text.Json;
using System.Text.Json.Serialization;
using CodeLm.Common;

namespace CodeLm.Server.Stats;

/// <summary>
/// The local acceptance log, one JSON object a line, appended by `codelm serve` and read by `codelm stats`. Nothing leaves
/// the machine. Each event is one write of a whole line, so a crash can cut at most the last line, which the reader skips.
/// </summary>
public sealed class AcceptanceLog(string path)
{
    public const string FileName = "acceptance.jsonl";

    /// <summary>The log in CodeLm's cache directory (see <see cref="CacheDirectory"/>).</summary>
    public static string DefaultPath => System.IO.Path.Combine(CacheDirectory.Root, FileName);

    public string Path { get; } = System.IO.Path.GetFullPath(path);
    private readonly Lock gate = new();

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public void Append(AcceptanceEvent e)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(e, Json);
        lock (gate)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            stream.Write([.. line, (byte)'\n']);
        }
    }

    /// <summary>The events in <paramref name="path"/>, and how many lines were not events (cut or foreign) and skipped.</summary>
    public static (List<AcceptanceEvent> Events, int Skipped) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no acceptance log at {path}: it is written by `codelm serve` once the editor reports completions", path);
        var events = new List<AcceptanceEvent>();
        var skipped = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                if (JsonSerializer.Deserialize<AcceptanceEvent>(line, Json) is { Model: not null, Language: not null } e) events.Add(e);
                else skipped++;
            }
            catch (JsonException) { skipped++; }
        }
        return (events, skipped);
    }
}
