using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>
/// The JSON layout of manifest.json and stats.json, generated at compile time so the data command also runs as a
/// Native AOT binary, where reflection-based serialization is unavailable.
/// </summary>
[JsonSerializable(typeof(CorpusManifest))]
[JsonSerializable(typeof(CorpusStats))]
[JsonSerializable(typeof(List<Distributed.CrawlResult>))]
internal sealed partial class CorpusJson : JsonSerializerContext
{
    /// <summary>Readable files: indented, camelCase, nulls left out, and non-ASCII paths written as they are.</summary>
    public static CorpusJson Files { get; } = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
