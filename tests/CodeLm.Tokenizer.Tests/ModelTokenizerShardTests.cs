using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Common;
using CodeLm.DataPipeline.Shards;
using CodeLm.Tests;
using CodeLm.Tokenizer.Shards;

namespace CodeLm.Tokenizer.Tests;

/// <summary>
/// Shards made with a pretrained model's tokenizer: the family's tokenizer.json trained by HF tokenizers itself
/// (<see cref="HfFamilies"/>), real files from the shared repos, and Megatron datasets read back by CodeLm's reader and
/// by an independent Python one.
/// </summary>
[Collection(HfFamiliesCollection.Name)]
public class ModelTokenizerShardTests(HfFamilies families)
{
    /// <summary>Qwen2.5's id layout: 151,643 vocabulary entries, then the added tokens from &lt;|endoftext|&gt; = 151643 on.</summary>
    private const int QwenVocabulary = 151_643;

    [Fact]
    public async Task A_151k_vocabulary_is_written_as_int32_and_reads_back_the_same_ids()
    {
        using var tmp = new TempDir();
        var dir = QwenShaped(families.Dir("qwen2"), tmp.File("qwen2.5"));
        var tokenizer = CodeTokenizer.Load(dir);
        Assert.Equal(QwenVocabulary + families.AddedIds("qwen2").Count, tokenizer.VocabSize);
        Assert.Equal(QwenVocabulary, tokenizer.EndOfText);
        AssertHfGivesTheSameIds(dir, tokenizer, ShardBuilderTests.Records("express").Take(5).Select(r => r.Content));

        var corpus = await ShardBuilderTests.MakeCorpus(tmp);
        var outDir = tmp.File("shards");
        await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, dir, outDir, Threads: 2, ChunkDocuments: 32));

        var manifest = ShardSet.Load(outDir, tokenizer);
        Assert.Equal("int32", manifest.TokenType);
        Assert.Equal(tokenizer.VocabSize, manifest.VocabSize);
        Assert.Equal(new DocumentFraming(TokenizerKind.HuggingFace, TagLines: false, QwenVocabulary, BeginOfText: null), manifest.Documents);
        Assert.Equal(tokenizer.Hash, CodeTokenizer.Load(ShardSet.TokenizerDir(outDir)).Hash);
        foreach (var (split, repo) in new[] { ("train", "cobra"), ("validation", "express") })
        {
            var rows = ShardBuilderTests.Records(repo).ToList();
            using var reader = IndexedDatasetReader.Open(ShardSet.Prefix(outDir, split));
            Assert.Equal(IndexedDatasetFormat.Int32Code, reader.DType);
            for (var i = 0; i < rows.Count; i++)
            {
                var doc = reader.GetDocument(i);
                Assert.Equal(tokenizer.EndOfText, doc[^1]);
                Assert.Equal(rows[i].Content, tokenizer.Decode(doc.AsSpan(0, doc.Length - 1))); // no tag line: the model never saw one
            }
        }

        // Megatron's own reading of the same bytes: dtype code 4, every id as written, most of them above 65,535.
        var py = Proc.Run("python3", [Path.Combine(TestPaths.RepoRoot, "tests", "CodeLm.Tokenizer.Tests", "read_mmididx.py"), ShardSet.Prefix(outDir, "validation")]);
        Assert.True(py.ExitCode == 0, py.Stderr);
        using var json = JsonDocument.Parse(py.Stdout);
        Assert.Equal(IndexedDatasetFormat.Int32Code, json.RootElement.GetProperty("dtype").GetInt32());
        var documents = json.RootElement.GetProperty("documents").EnumerateArray().Select(d => d.EnumerateArray().Select(t => t.GetInt32()).ToArray()).ToList();
        using (var reader = IndexedDatasetReader.Open(ShardSet.Prefix(outDir, "validation")))
            for (var i = 0; i < documents.Count; i++) Assert.Equal(reader.GetDocument(i), documents[i]);
        var ids = documents.SelectMany(d => d).ToList();
        Assert.True(ids.Count(t => t > ushort.MaxValue) > ids.Count / 2, "most ids should need 32 bits");
    }

    [Fact]
    public async Task Documents_carry_the_family_framing_and_tag_lines_only_when_asked()
    {
        using var tmp = new TempDir();
        var corpus = await ShardBuilderTests.MakeCorpus(tmp);
        var deepseek = families.Tokenizer("deepseek");
        var ids = families.AddedIds("deepseek");

        var outDir = tmp.File("deepseek");
        await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, families.Dir("deepseek"), outDir, ChunkDocuments: 64, TagLines: TagLines.On));
        var manifest = ShardSet.Load(outDir, deepseek);
        Assert.Equal(new DocumentFraming(TokenizerKind.HuggingFace, TagLines: true, ids["<｜end▁of▁sentence｜>"], ids["<｜begin▁of▁sentence｜>"]),
            manifest.Documents);
        var rows = ShardBuilderTests.Records("express").ToList();
        using (var reader = IndexedDatasetReader.Open(ShardSet.Prefix(outDir, "validation")))
            for (var i = 0; i < rows.Count; i++)
            {
                var doc = reader.GetDocument(i);
                Assert.Equal(ids["<｜begin▁of▁sentence｜>"], doc[0]);
                Assert.Equal(ids["<｜end▁of▁sentence｜>"], doc[^1]);
                Assert.Equal(LanguageTag.Prefix(rows[i].Language) + rows[i].Content, deepseek.Decode(doc.AsSpan(1, doc.Length - 2)));
            }

        // Another framing of the same corpus and tokenizer is another shard set, not "already up to date".
        var off = await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, families.Dir("deepseek"), outDir, ChunkDocuments: 64));
        Assert.False(off.AlreadyUpToDate);
        Assert.False(off.Manifest.Documents!.TagLines);
        var again = await ShardBuilder.RunAsync(new ShardBuildOptions(corpus, families.Dir("deepseek"), outDir, ChunkDocuments: 64, TagLines: TagLines.Off));
        Assert.True(again.AlreadyUpToDate);
    }

    [Fact]
    public async Task A_folder_without_a_usable_tokenizer_is_refused_before_anything_is_written()
    {
        using var tmp = new TempDir();
        var corpus = await ShardBuilderTests.MakeCorpus(tmp);
        var model = tmp.File("model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "config.json"), """{"model_type": "qwen2"}""");
        File.WriteAllBytes(Path.Combine(model, "model.safetensors"), [0]);

        var missing = await Assert.ThrowsAsync<TokenizerNotFoundException>(() =>
            ShardBuilder.RunAsync(new ShardBuildOptions(corpus, model, tmp.File("out"))));
        Assert.Equal(["config.json", "model.safetensors"], missing.Found);
        Assert.Contains("has no tokenizer.json (it holds config.json, model.safetensors)", missing.Message);
        Assert.Contains("Hugging Face model folder", missing.Message);
        Assert.False(Directory.Exists(tmp.File("out")));

        // A tokenizer.json of a kind CodeLm does not implement.
        var wordPiece = JsonNode.Parse(File.ReadAllText(Path.Combine(families.Dir("gpt2"), "tokenizer.json")))!;
        wordPiece["model"]!["type"] = "WordPiece";
        File.WriteAllText(Path.Combine(model, "tokenizer.json"), wordPiece.ToJsonString());
        var unsupported = await Assert.ThrowsAsync<UnsupportedTokenizerException>(() =>
            ShardBuilder.RunAsync(new ShardBuildOptions(corpus, model, tmp.File("out"))));
        Assert.Contains("WordPiece", unsupported.Found);
        Assert.False(Directory.Exists(tmp.File("out")));
    }

    /// <summary>
    /// The family's small tokenizer in Qwen2.5's id layout: filler entries (never produced: no merge makes them) push the
    /// merged tokens above 65,535 and the added tokens to 151,643 on, as in the real Qwen2.5-Coder tokenizer.json.
    /// </summary>
    private static string QwenShaped(string familyDir, string outDir)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(familyDir, "tokenizer.json")))!;
        var vocab = root["model"]!["vocab"]!.AsObject();
        var filler = QwenVocabulary - vocab.Count;
        var laidOut = new JsonObject();
        foreach (var (token, id) in vocab.ToList())
            laidOut[token] = id!.GetValue<int>() < 256 ? id.GetValue<int>() : id.GetValue<int>() + filler;
        for (var i = 0; i < filler; i++) laidOut[$"<|filler_{i}|>"] = 256 + i;
        root["model"]!["vocab"] = laidOut;
        var added = root["added_tokens"]!.AsArray();
        for (var i = 0; i < added.Count; i++) added[i]!["id"] = QwenVocabulary + i;
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "tokenizer.json"), root.ToJsonString());
        File.Copy(Path.Combine(familyDir, "tokenizer_config.json"), Path.Combine(outDir, "tokenizer_config.json"));
        return outDir;
    }

    /// <summary>HF tokenizers (the Rust library) gives the ids CodeLm gives, so the reshaped file is a real tokenizer.</summary>
    private static void AssertHfGivesTheSameIds(string dir, CodeTokenizer tokenizer, IEnumerable<string> texts)
    {
        using var tmp = new TempDir();
        var list = texts.Append("x = 1<|endoftext|><|fim_prefix|>y").ToList();
        File.WriteAllText(tmp.File("texts.json"), JsonSerializer.Serialize(list));
        var r = NodeRef.Node("hf-encode.js", Path.Combine(dir, "tokenizer.json"), tmp.File("texts.json"), tmp.File("out.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var hf = JsonNode.Parse(File.ReadAllText(tmp.File("out.json")))!["ids"]!.AsArray();
        for (var i = 0; i < list.Count; i++)
            Assert.Equal(hf[i]!.AsArray().Select(t => t!.GetValue<int>()), tokenizer.Encode(list[i]));
    }
}
