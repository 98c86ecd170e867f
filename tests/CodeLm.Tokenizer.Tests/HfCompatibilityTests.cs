using System.Text.Json;
using CodeLm.Tests;

namespace CodeLm.Tokenizer.Tests;

/// <summary>The saved tokenizer.json, loaded by HF tokenizers (npm, run in node), gives exactly our ids.</summary>
[Collection(TrainedCollection.Name)]
public class HfCompatibilityTests(TrainedTokenizer trained)
{
    private sealed record HfOutput(int[][] Ids, string[] Decoded);

    private static HfOutput EncodeWithHf(string tokenizerDir, IReadOnlyList<string> texts)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("texts.json"), JsonSerializer.Serialize(texts));
        var r = NodeRef.Node("hf-encode.js", Path.Combine(tokenizerDir, "tokenizer.json"), tmp.File("texts.json"), tmp.File("out.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonSerializer.Deserialize<HfOutput>(File.ReadAllText(tmp.File("out.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    [Theory]
    [InlineData("express")]   // JavaScript, held out from training
    [InlineData("cobra")]     // Go, in the training set
    public void Hf_tokenizers_gives_our_ids_on_every_file_of_a_real_repo(string repo)
    {
        // HF matches added tokens inside text; ours never does (specials come only from ids). No file here contains one.
        var files = CorpusRepos.TextFiles(repo);
        Assert.DoesNotContain(files, f => SpecialTokens.All.Any(f.Text.Contains));
        var hf = EncodeWithHf(trained.Directory, files.Select(f => f.Text).ToList());
        Assert.Equal(files.Count, hf.Ids.Length);
        for (var i = 0; i < files.Count; i++)
        {
            var ours = trained.Tokenizer.Encode(files[i].Text);
            Assert.True(ours.SequenceEqual(hf.Ids[i]), $"{repo}/{files[i].Path}: ids differ at token {FirstDifference(ours, hf.Ids[i])}");
            Assert.Equal(files[i].Text, hf.Decoded[i]);
        }
    }

    [Fact]
    public void Hf_agrees_on_hard_text()
    {
        string[] texts =
        [
            "", " ", "\r\n", "\uFEFFusing System;\r\n\tclass A { }\r\n", "emoji 😀👍🏽 and CJK 中文字符 and 𝟘𝟙𝟚",
            "x = 12345678901234567890", "  \u3000 \u00A0 tabs\t\t\tend\t", "naïve café ﬁ e\u0301", "a\u2028b\u2029c\u0085d",
            "ٱلْعَرَبِيَّة हिन्दी", new string(' ', 300) + "x" + new string('\t', 40) + "\n\n\n",
        ];
        var hf = EncodeWithHf(trained.Directory, texts);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(hf.Ids[i], trained.Tokenizer.Encode(texts[i]));
            Assert.Equal(texts[i], hf.Decoded[i]);
        }
    }

    private static int FirstDifference(int[] a, int[] b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return n;
    }
}
