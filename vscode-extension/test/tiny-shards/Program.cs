// Makes a tiny shard directory for the extension's integration test: a BPE tokenizer trained on a few files, and
// training documents that `codelm train` learns by heart. Each completion sample becomes two fill-in-the-middle
// documents laid out exactly like the server's prompts (FimLayout, in both orders),
// and each file also goes in whole, so a tiny model trained on it completes the editor's text deterministically.
// Usage: TinyShards <spec.json> <out shard dir>
//   spec.json: { "language": "Python", "vocabSize": 400, "files": ["..."], "samples": [{ "prefix", "suffix", "middle", "context"? }] }
//   context: [{ "path", "text" }], other files as the server puts them before the prompt (RepoContext, after the tag).
using System.Text.Json;
using CodeLm.Tokenizer;
using CodeLm.Tokenizer.Shards;
using CodeLm.Common;
using CodeLm.Tokenizer.Training;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: TinyShards <spec.json> <out shard dir>");
    return 2;
}
var spec = JsonSerializer.Deserialize<Spec>(File.ReadAllText(args[0]), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
    ?? throw new InvalidDataException($"{args[0]} is empty");
var outDir = args[1];
var tag = LanguageTag.Prefix(spec.Language);

var tokenizerDir = ShardSet.TokenizerDir(outDir);
BpeTrainer.Train(spec.Files.Select(f => tag + f), new BpeTrainerOptions(VocabSize: spec.VocabSize, MinFrequency: 1, Threads: 1)).Save(tokenizerDir);
var tok = CodeTokenizer.Load(tokenizerDir);

var documents = new List<int[]>();
foreach (var s in spec.Samples)
{
    // Both sentinel orders the server can use (its fimFormat setting; SPM is its default), so the memorized middle
    // comes back whichever layout the prompt is in.
    // With context the server encodes the tag, the context and the rest apart (Generator.BuildFimPrompt): so does this.
    int[] prefix = s.Context is { Count: > 0 } context
        ? [.. tok.Encode(tag), .. RepoContext.Encode(tok, context, "", "", spec.Language), .. tok.Encode(s.Prefix)]
        : tok.Encode(tag + s.Prefix);
    foreach (var format in new[] { FimFormat.Psm, FimFormat.Spm })
        documents.Add(FimLayout.Document(format, tok.Fim, prefix, tok.Encode(s.Suffix), tok.Encode(s.Middle)));
}
foreach (var f in spec.Files) documents.Add(tok.Encode(tag + f));

var splits = new Dictionary<string, SplitStats>();
foreach (var split in new[] { ShardManifest.Train, ShardManifest.Validation })
{
    using var writer = new IndexedDatasetWriter(ShardSet.Prefix(outDir, split), tok.VocabSize);
    long tokens = 0;
    foreach (var d in documents) { writer.Add(d); tokens += d.Length; }
    writer.Commit();
    splits[split] = new SplitStats(documents.Count, tokens,
        new Dictionary<string, long> { [spec.Language] = tokens }, new Dictionary<string, long> { [spec.Language] = documents.Count });
}
new ShardManifest(ShardManifest.CurrentFormatVersion, tok.Hash, "extension-integration-test", tok.VocabSize,
    tok.VocabSize < 65500 ? "uint16" : "int32", splits).Save(Path.Combine(outDir, ShardManifest.FileName));
ShardSet.Load(outDir);
Console.WriteLine($"{documents.Count} documents, vocabulary {tok.VocabSize}, in {outDir}");
return 0;

internal sealed record Sample(string Prefix, string Suffix, string Middle, IReadOnlyList<ContextFile>? Context = null);
internal sealed record Spec(string Language, int VocabSize, IReadOnlyList<string> Files, IReadOnlyList<Sample> Samples);
