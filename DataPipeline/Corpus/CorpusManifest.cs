using System.Text.Json;
using CodeLm.Common;
using CodeLm.DataPipeline.Crawl;
using CodeLm.Tokenizer;

namespace CodeLm.DataPipeline.Corpus;

/// <summary>manifest.json: every source with its URL, commit, license and status (ok / skipped / failed with the reason).</summary>
public sealed class CorpusManifest
{
    public const string FileName = "manifest.json";
    public List<CrawledRepo> Repos { get; set; } = [];
    /// <summary>
    /// What the corpus built from these repositories was decontaminated against (a copy of stats.json's section), so the
    /// eval can tell whether a benchmark it runs was removed from the training data. Absent: nothing was removed.
    /// </summary>
    public DecontaminationRecord? Decontamination { get; set; }

    public static CorpusManifest Load(string corpusDir)
    {
        var path = Path.Combine(corpusDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found; run `codelm data crawl` first", path);
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), CorpusJson.Files.CorpusManifest) ?? throw new InvalidDataException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid manifest: {e.Message}", e);
        }
    }

    public void Save(string corpusDir)
    {
        Directory.CreateDirectory(corpusDir);
        AtomicFile.WriteAllText(Path.Combine(corpusDir, FileName), JsonSerializer.Serialize(this, CorpusJson.Files.CorpusManifest) + "\n");
    }
}
