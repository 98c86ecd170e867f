using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeLm.Tests;
using CodeLm.Tokenizer.Hf;

namespace CodeLm.Tokenizer.Tests;

/// <summary>
/// The tokenizer.json components one at a time against HF tokenizers: split patterns (Oniguruma semantics in .NET)
/// and behaviors piece by piece, then encoding variants of a trained file (prefix space, ignore_merges, legacy merges,
/// shuffled ids and holes, added-token flags, normalizers).
/// </summary>
[Collection(HfFamiliesCollection.Name)]
public class HfComponentTests(HfFamilies families)
{
    private const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string O200k = @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static readonly string[] ExtraTexts =
    [
        "# comment\nx = 1  # trailing\n  # indented\n", "/* a\nb */ c /* d */", "obj.field.Method(); a..b", "café.Crème ÉCOLE école",
        "SELECT x FROM Selected sElEcT", "aaa aaaa ßß ẞ ǅǆǄ ﬃ", "  TODO  fix this TODO\n", "func(x) funcs myfunc func _func",
        "a => b =>c", "ﬁle file FILE", "<sep><sep>x<sep>", "Tab\there  and\u00A0nbsp", "😀😀 x\U0001F600y", "x<extra>y <extra>", "Ⓐⓑc 🄰x ⁂",
    ];

    private static IEnumerable<string> Texts => HfFamilyTests.HardTexts.Concat(ExtraTexts)
        .Select(t => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(t))); // pre-tokenizers see well-formed text

    public static TheoryData<string, string, bool> Splits => new()
    {
        { Qwen2, "Isolated", false }, { Llama3, "Isolated", false }, { O200k, "Isolated", false },
        { ByteLevelStep.Gpt2Pattern, "Isolated", false },
        { @"\s?[A-Za-zµÀ-ÖØ-öø-ƺ\u1F5F-\u1F7D\u2126\u212A-\u212D𐐀-𐑏𞤀-𞥃]+", "Isolated", false },
        { @"\s?[!-/:-~！-／：-～‘-‟　-。]+", "Isolated", false }, { @"\s+$", "Isolated", false }, { "[一-龥ࠀ-一가-퟿]+", "Isolated", false },
        { @"^\s*#.*$", "Isolated", false }, { @"(?m:/\*.*?\*/)", "MergedWithNext", false }, { @"\w+|\W", "Isolated", false },
        { @"\d+|\D", "Contiguous", false }, { @"\h+", "MergedWithPrevious", false }, { @"(?<=\.)\w+", "Isolated", false },
        { @"\x{1F600}|\u00E9+|\x41", "Isolated", false }, { @"(?i)[a-c]+|select|ǆ", "Isolated", false }, { @"a{,2}", "Removed", false },
        { @"\p{Lu}\p{Ll}*", "MergedWithPrevious", true }, { @"\P{L}+", "Contiguous", true }, { @"\p{^N}+", "Removed", true },
        { @"\S+(?=\s)", "MergedWithNext", true }, { @"[^\s]*+x", "Isolated", false }, { @"[\p{Z}\t]+", "Removed", false },
    };

    [Fact]
    public void Split_patterns_and_behaviors_cut_text_into_the_pieces_HF_cuts()
    {
        using var tmp = new TempDir();
        var texts = Texts.Concat(CorpusRepos.TextFiles("MediatR").Select(f => f.Text)).ToList();
        var files = new List<string>();
        var ours = new List<PreTokenizerChain>();
        foreach (var (pattern, behavior, invert) in Splits.Select(row => ((string)row[0], (string)row[1], (bool)row[2])))
        {
            var json = MinimalTokenizer(new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(Split(pattern, behavior, invert), ByteLevelNode(false, false)),
            });
            var file = tmp.File($"split{files.Count}.json");
            File.WriteAllText(file, json.ToJsonString());
            files.Add(file);
            ours.Add(HfTokenizerJson.Read(json, file).PreTokenizer);
        }
        File.WriteAllText(tmp.File("texts.json"), JsonSerializer.Serialize(texts));
        var r = NodeRef.Node("hf-pretokenize.js", [tmp.File("texts.json"), tmp.File("out.json"), .. files]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var hf = JsonSerializer.Deserialize<JsonObject>(File.ReadAllText(tmp.File("out.json")))!["pieces"]!.Deserialize<string[][][]>()!;
        for (var k = 0; k < files.Count; k++)
            for (var i = 0; i < texts.Count; i++)
            {
                var pieces = new List<ReadOnlyMemory<char>>();
                ours[k].Split(texts[i].AsMemory(), pieces);
                var ourPieces = pieces.Select(p => ByteLevel.Encode(Encoding.UTF8.GetBytes(p.ToString()))).ToArray();
                if (!ourPieces.SequenceEqual(hf[k][i]))
                {
                    var at = HfReference.FirstDifference(ourPieces, hf[k][i]);
                    Assert.Fail($"split {Splits.ElementAt(k)[0]} ({Splits.ElementAt(k)[1]}) on text {i}: piece {at} is " +
                                $"'{ourPieces.ElementAtOrDefault(at)}', HF has '{hf[k][i].ElementAtOrDefault(at)}'");
                }
            }
    }

    public static TheoryData<string> Variants => new()
    {
        "add_prefix_space", "ignore_merges", "legacy_merges_and_shuffled_ids", "vocab_holes", "added_token_flags",
        "nfkc_and_digit_runs", "split_behaviors",
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Encoding_variants_of_a_trained_file_give_HF_ids(string variant)
    {
        using var tmp = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(families.Dir("gpt2"), "tokenizer.json")))!.AsObject();
        Vary(json, variant);
        File.WriteAllText(tmp.File("tokenizer.json"), json.ToJsonString());
        var tok = CodeTokenizer.Load(tmp.Path);
        var texts = Texts.Concat(CorpusRepos.TextFiles("MediatR").Select(f => f.Text)).ToList();
        var hf = HfReference.Encode(tmp.Path, texts);
        for (var i = 0; i < texts.Count; i++)
        {
            var ours = tok.Encode(texts[i]);
            if (!ours.SequenceEqual(hf.Ids[i]))
            {
                var at = HfReference.FirstDifference(ours, hf.Ids[i]);
                Assert.Fail($"{variant}, text {i}: ids differ at token {at}: ours [{string.Join(",", ours.Skip(at).Take(6))}], " +
                            $"HF [{string.Join(",", hf.Ids[i].Skip(at).Take(6))}] after '{tok.Decode(ours.Take(at).TakeLast(6).ToArray())}'");
            }
            Assert.True(hf.Decoded[i] == tok.Decode(hf.Ids[i]), $"{variant}, text {i}: Decode differs from HF's");
        }
    }

    [Fact]
    public void Merges_that_use_a_token_before_a_later_merge_makes_it_follow_HF_one_pair_at_a_time()
    {
        // "abc" is made at rank 2 and again at rank 4, but used at rank 3: on "abcabc", HF merges (a, bc) at position 0,
        // then (abc, a) before the second (a, bc), giving [abca, bc]; merging both (a, bc) at once would give [abc, abc].
        using var tmp = new TempDir();
        var json = MinimalTokenizer(ByteLevelNode(false, false));
        var vocab = json["model"]!["vocab"]!.AsObject();
        foreach (var t in new[] { "bc", "ab", "abc", "abca" }) vocab[t] = vocab.Count;
        json["model"]!["merges"] = new JsonArray("b c", "a b", "ab c", "abc a", "a bc");
        File.WriteAllText(tmp.File("tokenizer.json"), json.ToJsonString());
        var tok = CodeTokenizer.Load(tmp.Path);
        string[] texts = ["abcabc", "abcabcabc", "xabcabcy abca"];
        var hf = HfReference.Encode(tmp.Path, texts);
        Assert.Equal([vocab["abca"]!.GetValue<int>(), vocab["bc"]!.GetValue<int>()], hf.Ids[0]);
        for (var i = 0; i < texts.Length; i++) Assert.Equal(hf.Ids[i], tok.Encode(texts[i]));
    }

    private static void Vary(JsonObject json, string variant)
    {
        var model = json["model"]!.AsObject();
        switch (variant)
        {
            case "add_prefix_space":
                json["pre_tokenizer"] = ByteLevelNode(addPrefixSpace: true, useRegex: true);
                break;
            case "ignore_merges":
                model["ignore_merges"] = true;
                break;
            case "legacy_merges_and_shuffled_ids":
            {
                model["merges"] = new JsonArray(model["merges"]!.AsArray().Select(m => (JsonNode)$"{m![0]} {m[1]}").ToArray());
                var vocab = model["vocab"]!.AsObject().Select(e => e.Key).ToList();
                var ids = Enumerable.Range(0, vocab.Count).ToArray();
                new Random(5).Shuffle(ids);
                model["vocab"] = new JsonObject(vocab.Select((t, i) => KeyValuePair.Create(t, (JsonNode?)ids[i])));
                foreach (var t in json["added_tokens"]!.AsArray()) t!["id"] = model["vocab"]![t["content"]!.GetValue<string>()]!.GetValue<int>();
                break;
            }
            case "vocab_holes":
            {
                // ids from 300 on move up by 7; HF numbers an added token outside the vocabulary by the vocabulary's
                // size, whatever id the file writes, so "<extra>" lands on an id a vocabulary token also has.
                var vocab = model["vocab"]!.AsObject().ToDictionary(e => e.Key, e => e.Value!.GetValue<int>());
                model["vocab"] = new JsonObject(vocab.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)(e.Value >= 300 ? e.Value + 7 : e.Value))));
                foreach (var t in json["added_tokens"]!.AsArray()) t!["id"] = model["vocab"]![t["content"]!.GetValue<string>()]!.GetValue<int>();
                json["added_tokens"]!.AsArray().Add(Added("<extra>", special: true, id: 300));
                break;
            }
            case "added_token_flags":
                json["normalizer"] = new JsonObject { ["type"] = "NFKC" };
                foreach (var t in new[]
                         {
                             Added("TODO", special: false, lstrip: true, rstrip: true), Added("func", special: false, singleWord: true, normalized: true),
                             Added("=>", special: false, rstrip: true), Added("ﬁle", special: false, normalized: true), Added("<sep>", special: true),
                             Added("FILE", special: false, normalized: false),
                         })
                    json["added_tokens"]!.AsArray().Add(t);
                break;
            case "nfkc_and_digit_runs":
                json["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFKD" }, new JsonObject { ["type"] = "NFKC" }) };
                json["pre_tokenizer"] = new JsonObject
                {
                    ["type"] = "Sequence",
                    ["pretokenizers"] = new JsonArray(new JsonObject { ["type"] = "Digits", ["individual_digits"] = false }, ByteLevelNode(false, true)),
                };
                break;
            case "split_behaviors":
                json["pre_tokenizer"] = new JsonObject
                {
                    ["type"] = "Sequence",
                    ["pretokenizers"] = new JsonArray(
                        new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = " " }, ["behavior"] = "MergedWithNext", ["invert"] = false },
                        Split("[;,]", "MergedWithPrevious", false), Split(@"\p{Lu}", "Contiguous", true), Split("#.*", "Removed", false),
                        new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = new JsonArray(ByteLevelNode(false, false)) }),
                };
                break;
            default: throw new ArgumentException(variant);
        }
    }

    private static JsonObject Added(string content, bool special, bool lstrip = false, bool rstrip = false, bool singleWord = false,
        bool? normalized = null, int id = 0) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip, ["rstrip"] = rstrip,
        ["normalized"] = normalized ?? !special, ["special"] = special,
    };

    private static JsonObject Split(string regex, string behavior, bool invert) => new()
    {
        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = regex }, ["behavior"] = behavior, ["invert"] = invert,
    };

    private static JsonObject ByteLevelNode(bool addPrefixSpace, bool useRegex) => new()
    {
        ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = false, ["use_regex"] = useRegex,
    };

    // A byte-level BPE with no merges: every byte its own token.
    internal static JsonObject MinimalTokenizer(JsonNode preTokenizer, JsonNode? normalizer = null) => new()
    {
        ["version"] = "1.0", ["truncation"] = null, ["padding"] = null, ["added_tokens"] = new JsonArray(), ["normalizer"] = normalizer,
        ["pre_tokenizer"] = preTokenizer, ["post_processor"] = null, ["decoder"] = ByteLevelNode(false, false),
        ["model"] = new JsonObject
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
            ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
            ["vocab"] = new JsonObject(Enumerable.Range(0, 256).Select(b => KeyValuePair.Create(ByteLevel.ByteToChar[b].ToString(), (JsonNode?)b))),
            ["merges"] = new JsonArray(),
        },
    };
}
