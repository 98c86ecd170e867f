using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.Tokenizer;

namespace CodeLm.Pipeline;

/// <summary>
/// A finished stage leaves `.stage.json` in its output folder: a fingerprint of its inputs and what the report shows of it.
/// A rerun reuses the stage only when the fingerprint matches, so a changed option or a redone upstream stage redoes what follows.
/// </summary>
public static class StageMarker
{
    private const string FileName = ".stage.json";

    public static string Fingerprint(params object?[] inputs)
    {
        var text = string.Join("\n", inputs.Select(i => i as string ?? JsonSerializer.Serialize(i)));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>The stage's saved details when it finished with this fingerprint; otherwise null.</summary>
    public static JsonObject? Finished(string dir, string fingerprint)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            return node?["fingerprint"]?.GetValue<string>() == fingerprint ? node["details"] as JsonObject ?? new JsonObject() : null;
        }
        catch (JsonException) { return null; }
    }

    public static void MarkDone(string dir, string fingerprint, JsonObject details)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName);
        var node = new JsonObject { ["fingerprint"] = fingerprint, ["finished"] = DateTimeOffset.UtcNow.ToString("O"), ["details"] = details };
        AtomicFile.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The whole stamp of a finished stage, so the next stage's fingerprint changes when this one is redone.</summary>
    public static string Stamp(string dir)
    {
        var path = Path.Combine(dir, FileName);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }
}
