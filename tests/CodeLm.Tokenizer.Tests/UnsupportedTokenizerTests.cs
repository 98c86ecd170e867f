using System.Text.Json.Nodes;
using CodeLm.Tests;

namespace CodeLm.Tokenizer.Tests;

/// <summary>Tokenizers CodeTokenizer does not implement fail with one typed error that names the part and what is supported.</summary>
public class UnsupportedTokenizerTests
{
    private static UnsupportedTokenizerException LoadFails(JsonObject tokenizerJson)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("tokenizer.json"), tokenizerJson.ToJsonString());
        var e = Assert.Throws<UnsupportedTokenizerException>(() => CodeTokenizer.Load(tmp.Path));
        Assert.Contains("supported:", e.Message);
        return e;
    }

    private static JsonObject ByteLevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = true };

    [Fact]
    public void WordPiece_and_Unigram_models()
    {
        var wordPiece = LoadFails(new JsonObject
        {
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer" }, ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["model"] = new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["vocab"] = new JsonObject { ["[UNK]"] = 0, ["a"] = 1 } },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece" },
        });
        Assert.Equal(("model", "WordPiece"), (wordPiece.Component, wordPiece.Found));

        var unigram = LoadFails(new JsonObject
        {
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace" },
            ["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = 0, ["vocab"] = new JsonArray(new JsonArray("<unk>", 0.0)) },
            ["decoder"] = new JsonObject { ["type"] = "Metaspace" },
        });
        Assert.Equal(("model", "Unigram"), (unigram.Component, unigram.Found));
        Assert.Contains("byte-level BPE", unigram.Message);
    }

    [Fact]
    public void Llama2_style_bpe_with_byte_fallback()
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2, ["<0x00>"] = 3, ["▁"] = 4, ["a"] = 5 };
        var e = LoadFails(new JsonObject
        {
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["model"] = new JsonObject { ["type"] = "BPE", ["byte_fallback"] = true, ["fuse_unk"] = true, ["unk_token"] = "<unk>", ["vocab"] = vocab, ["merges"] = new JsonArray() },
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = new JsonArray(new JsonObject { ["type"] = "ByteFallback" }) },
        });
        Assert.Equal("pre_tokenizer", e.Component);
        Assert.Contains("byte_fallback", e.Found);
        Assert.Contains("not byte-level", e.Message);
    }

    [Fact]
    public void A_sentencepiece_model_without_tokenizer_json()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("tokenizer.model"), [0x0A, 0x00]);
        var e = Assert.Throws<UnsupportedTokenizerException>(() => CodeTokenizer.Load(tmp.Path));
        Assert.Equal("tokenizer.json", e.Component);
        Assert.Contains("SentencePiece", e.Message);
    }

    [Fact]
    public void Normalizers_pre_tokenizers_and_patterns_outside_the_supported_set()
    {
        JsonObject With(JsonNode? normalizer, JsonNode preTokenizer) => new()
        {
            ["normalizer"] = normalizer, ["pre_tokenizer"] = preTokenizer, ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = new JsonObject { ["a"] = 0 }, ["merges"] = new JsonArray() },
        };
        var lowercase = LoadFails(With(new JsonObject { ["type"] = "Lowercase" }, ByteLevel()));
        Assert.Equal(("normalizer", "Lowercase"), (lowercase.Component, lowercase.Found));

        var whitespace = LoadFails(With(null, new JsonObject
        {
            ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(new JsonObject { ["type"] = "Whitespace" }, ByteLevel()),
        }));
        Assert.Equal(("pre_tokenizer", "Whitespace"), (whitespace.Component, whitespace.Found));

        var script = LoadFails(With(null, new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"\p{Han}+" }, ["behavior"] = "Isolated", ["invert"] = false },
                ByteLevel()),
        }));
        Assert.Contains(@"\p{Han}", script.Found);
    }

    [Fact]
    public void Unsupported_is_not_supported_and_broken_is_invalid_data()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("tokenizer.json"), """{"pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}""");
        Assert.Contains("not in the vocabulary", Assert.Throws<InvalidDataException>(() => CodeTokenizer.Load(tmp.Path)).Message);
        Assert.IsAssignableFrom<NotSupportedException>(new UnsupportedTokenizerException("p", "model", "WordPiece", "BPE"));
    }
}
