using CodeLm.Tests;
using CodeLm.Tokenizer.Training;

namespace CodeLm.Tokenizer.Tests;

public class BpeTrainerTests
{
    private static string B(string s) => string.Concat(System.Text.Encoding.UTF8.GetBytes(s).Select(b => ByteLevel.ByteToChar[b]));

    [Fact]
    public void Learns_the_most_frequent_pairs_first()
    {
        var counts = new Dictionary<string, long> { ["hug"] = 10, ["pug"] = 5, ["pun"] = 12, ["bun"] = 4, ["hugs"] = 5 };
        var t = BpeTrainer.Train(counts, new BpeTrainerOptions(VocabSize: 261 + 3, MinFrequency: 1));
        // pair counts: ug = 20, un = 16, hu = 15; then "hug" = 15 after "ug" exists.
        Assert.Equal([("u", "g"), ("u", "n"), ("h", "ug")], t.Merges);
        Assert.Equal(["ug", "un", "hug"], t.Tokens.Skip(261));
        Assert.Equal(SpecialTokens.All, t.Tokens.Take(5));
    }

    [Fact]
    public void Overlapping_pairs_are_counted_and_merged_left_to_right()
    {
        var t = BpeTrainer.Train(new Dictionary<string, long> { ["aaaa"] = 3, ["aaa"] = 1 }, new BpeTrainerOptions(263, 1));
        Assert.Equal([("a", "a"), ("aa", "aa")], t.Merges);
    }

    [Fact]
    public void Training_is_deterministic_and_the_tokenizer_reencodes_its_training_text()
    {
        using var tmp = new TempDir();
        var texts = CorpusRepos.TextFiles("express").Select(f => f.Text).ToList();
        var a = BpeTrainer.Train(texts, new BpeTrainerOptions(3000, 2, Threads: 1));
        var b = BpeTrainer.Train(texts, new BpeTrainerOptions(3000, 2, Threads: 2));
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(3000, a.Tokens.Count);
        a.Save(tmp.Path);
        var tok = CodeTokenizer.Load(tmp.Path);
        Assert.Equal(3000, tok.VocabSize);
        Assert.Equal(64, tok.Hash.Length);
        Assert.Contains(B("    "), a.Tokens);           // indentation became tokens
        Assert.Contains(B(" function"), a.Tokens);
        Assert.DoesNotContain(a.Tokens.Skip(261), t => t.Length > 1 && t.All(char.IsAsciiDigit)); // digits never merge
        Assert.True(File.Exists(Path.Combine(tmp.Path, "vocab.json")) && File.ReadAllText(Path.Combine(tmp.Path, "merges.txt")).StartsWith("#version"));
    }

    [Fact]
    public void Foreign_or_corrupt_tokenizer_files_are_refused_clearly()
    {
        using var tmp = new TempDir();
        var empty = Assert.Throws<TokenizerNotFoundException>(() => CodeTokenizer.Load(tmp.Path));
        Assert.Contains("is empty", empty.Message);
        Assert.Contains("codelm tokenizer train", empty.Message);
        File.WriteAllText(tmp.File("tokenizer.json"), "{ not json");
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => CodeTokenizer.Load(tmp.Path)).Message);
        File.WriteAllText(tmp.File("tokenizer.json"), """{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""");
        Assert.Contains("not written by CodeLm", Assert.Throws<InvalidDataException>(() => CodeTokenizer.Load(tmp.Path)).Message);
    }
}
