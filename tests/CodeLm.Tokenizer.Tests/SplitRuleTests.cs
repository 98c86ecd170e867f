using System.Text.Json.Nodes;
using CodeLm.Tests;
using CodeLm.Tokenizer.Training;

namespace CodeLm.Tokenizer.Tests;

/// <summary>
/// A tokenizer trained with Qwen2's split (<see cref="SplitRule.Qwen2"/>): tokenizer.json carries Qwen2's regex, CodeLm
/// loads it as its own (special-token text stays text) and HF tokenizers, reading the same file, gives the same ids.
/// </summary>
public sealed class SplitRuleTests : IDisposable
{
    private readonly TempDir tmp = new();

    [Fact]
    public void A_Qwen2_split_tokenizer_is_CodeLms_own_and_HF_tokenizers_gives_its_ids()
    {
        var train = CorpusRepos.TextFiles("cobra").Select(f => f.Text).ToList();
        BpeTrainer.Train(train, new BpeTrainerOptions(VocabSize: 3000, Threads: 2, Split: SplitRule.Qwen2)).Save(tmp.File("tok"));
        var json = JsonNode.Parse(File.ReadAllText(tmp.File("tok/tokenizer.json")))!;
        Assert.Equal(SplitRules.Qwen2Pattern, json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"]!.GetValue<string>());
        var tok = CodeTokenizer.Load(tmp.File("tok"));

        // CodeLm's rule keeps '_' inside identifiers; Qwen2's starts a piece there.
        Assert.Equal(["max", "_len"], Pieces(SplitRule.Qwen2, "max_len"));
        Assert.Equal(["max_len"], Pieces(SplitRule.CodeLm, "max_len"));
        Assert.DoesNotContain(tok.Encode("<|endoftext|><fim_prefix>"), SpecialIds.Contains);

        var texts = CorpusRepos.TextFiles("express").Select(f => f.Text).Where(t => !SpecialTokens.All.Any(t.Contains))
            .Concat(["", "\uFEFFusing System;\r\n\tclass A { }\r\n", "emoji 😀👍🏽 and CJK 中文字符 𝟘𝟙", "don't it's we'll I'M", "a\u2028b\u0085 e\u0301 \t\t\tx\n\n"])
            .ToList();
        var hf = HfReference.Encode(tok.Directory, texts);
        for (var i = 0; i < texts.Count; i++)
        {
            var ours = tok.Encode(texts[i]);
            Assert.True(ours.SequenceEqual(hf.Ids[i]), $"text {i}: ids differ at token {HfReference.FirstDifference(ours, hf.Ids[i])}");
            Assert.Equal(texts[i], tok.Decode(ours));
        }
    }

    private static readonly int[] SpecialIds = [0, 1, 2, 3, 4];

    private static List<string> Pieces(SplitRule rule, string text)
    {
        var pieces = new List<string>();
        foreach (var r in SplitRules.Split(rule, text)) pieces.Add(text[r]);
        return pieces;
    }

    public void Dispose() => tmp.Dispose();
}
