using System.Text;
using CodeLm.Common;

namespace CodeLm.Tokenizer.Tests;

/// <summary>
/// A model's tokenizer.json (GPT-2, StarCoder, Qwen2, DeepSeek-Coder layouts, trained by HF tokenizers) gives exactly
/// HF tokenizers' ids: on every file of real repos and on text that stresses added tokens, normalization and Unicode.
/// </summary>
[Collection(HfFamiliesCollection.Name)]
public class HfFamilyTests(HfFamilies families)
{
    private static readonly string[] Repos = ["express", "cobra", "MediatR"];

    /// <summary>Text where pre-tokenizers, added tokens and Unicode handling differ most between implementations.</summary>
    public static readonly string[] HardTexts =
    [
        "", " ", "\n", "\r\n", "\r\n\r\n\t\r\n", "\uFEFFusing System;\r\n\tclass A { }\r\n",
        "<|endoftext|>", "a<|endoftext|>b", "<<|endoftext|>>", "<|endoftext", "<|fim_pre", "<fim_prefix>def f(<fim_suffix>\n<fim_middle>",
        "<|fim_prefix|>def f(<|fim_suffix|>):\n    pass<|fim_middle|>", "<|file_sep|>src/a.py\n<|repo_name|>x", "<|im_start|>user\nhi<|im_end|>\n",
        "<tool_call>{}</tool_call>", "<｜fim▁begin｜>a = <｜fim▁hole｜>\nprint(a)<｜fim▁end｜>", "<｜begin▁of▁sentence｜>x<｜end▁of▁sentence｜>",
        "<reponame>r<filename>f.py<gh_stars>10\n", "text <|endoftext|> <fim_middle> <｜fim▁end｜> text",
        "emoji 😀👍🏽 👨‍👩‍👧 🏳️‍🌈 and CJK 中文字符 日本語のテキスト 한국어 텍스트", "𝐀𝐁𝐂 𝟘𝟙𝟚 𠀀𠀁 math 𝑥 = 𝑦",
        "x = 12345678901234567890; y = 3.14159e-10; ١٢٣ ۴۵۶ １２３ ⅫⅣ ½", "trailing spaces   \nand tabs\t\t\n   ",
        "  \u3000 \u00A0 tabs\t\t\tend\t", "a\u2028b\u2029c\u0085d\u000Be\u000Cf", "naïve café ﬁ e\u0301 A\u030A Å Ω K ǅ",
        "it's I'M we'LL they'Re 'S 'ſ 'K", "Ærø Ø øre São Paulo À la carte ÿ õ ú ü", "ٱلْعَرَبِيَّة हिन्दी ภาษาไทย עברית",
        "SELECT * FROM t WHERE x >= 10 AND y <> 'a''b';", "λx. x → ∀y ∈ ℝ: f(y) ≠ ∞", "  ​zero\u200Bwidth\u200D joiner",
        "lone \uD800 high and \uDC00 low", new string(' ', 300) + "x" + new string('\t', 40) + "\n\n\n",
        string.Concat(Enumerable.Repeat("ab", 400)), "\0\u0001\u007F control",
        "a𝐀b x𝟘y z𝑥𝑦", "it'ſſ he'Sſ ǅungla", "中𠀀文字 𠀀中", "Ａｂｃ１２ｘ", "x\u0301y \u212Akelvin \u2126hm ß ẞ ΐ ΰ",
        "   \u00A0\u00A0x \u00A0", "a\r\n\r\n  \r\nb", "foo  \nbar  \r\n  baz", "if (x) {\r\n\treturn;\r\n}\r\n",
    ];

    public static TheoryData<string> Families => new(HfFamilies.Names);

    [Theory]
    [MemberData(nameof(Families))]
    public void Ids_equal_hf_tokenizers_on_every_file_of_real_repos_and_on_hard_text(string family)
    {
        var tok = families.Tokenizer(family);
        var texts = Repos.SelectMany(r => CorpusRepos.TextFiles(r).Select(f => (Name: $"{r}/{f.Path}", f.Text)))
            .Concat(HardTexts.Select((t, i) => (Name: $"hard text {i}", Text: t))).ToList();
        var hf = HfReference.Encode(families.Dir(family), texts.Select(t => t.Text).ToList());
        for (var i = 0; i < texts.Count; i++)
        {
            var (name, text) = texts[i];
            var ours = tok.Encode(text);
            int[] expected = tok.BeginOfText is { } bos ? [bos, .. ours] : ours; // HF adds its post-processor's tokens
            if (!expected.SequenceEqual(hf.Ids[i]))
            {
                var at = HfReference.FirstDifference(expected, hf.Ids[i]);
                Assert.Fail($"{family} {name}: ids differ at token {at}: ours [{string.Join(",", expected.Skip(at).Take(8))}] " +
                            $"'{tok.Decode(expected.Skip(at).Take(8).ToArray())}', HF [{string.Join(",", hf.Ids[i].Skip(at).Take(8))}] " +
                            $"'{tok.Decode(hf.Ids[i].Skip(at).Take(8).ToArray())}' after '{tok.Decode(expected.Take(at).TakeLast(8).ToArray())}'");
            }
            Assert.True(hf.Decoded[i] == tok.Decode(hf.Ids[i]), $"{family} {name}: Decode differs from HF's");
            var wellFormed = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)); // lone surrogates → U+FFFD
            if (RoundTrips(family, wellFormed))
                Assert.True(wellFormed == tok.Decode(ours), $"{family} {name}: Decode(Encode(x)) != x");
        }
    }

    // Where HF itself changes text: Qwen2 normalizes to NFC; DeepSeek-Coder's added tokens for bytes UTF-8 never
    // uses ("õ", "ú", ...) match those letters in text and decode to the lone bytes.
    private static bool RoundTrips(string family, string text) => family switch
    {
        "qwen2" => text.IsNormalized(NormalizationForm.FormC),
        "deepseek" => !text.Any("õ÷ÁýÀÿøúþüùöû".Contains),
        _ => true,
    };

    [Fact]
    public void Qwen2_specials_and_fim_sentinels()
    {
        var tok = families.Tokenizer("qwen2");
        var id = families.AddedIds("qwen2");
        Assert.Equal(id["<|endoftext|>"], tok.EndOfText);
        Assert.Null(tok.BeginOfText);
        Assert.True(tok.HasFim);
        Assert.Equal(new FimSentinels(id["<|fim_prefix|>"], id["<|fim_middle|>"], id["<|fim_suffix|>"]), tok.Fim);
        Assert.Equal(id["<|fim_pad|>"], tok.FimPad);
        Assert.Equal(id["<|file_sep|>"], tok.FileSeparator);
        Assert.Equal(id["<|repo_name|>"], tok.RepoName);
        Assert.True(tok.IsSpecial(id["<|im_start|>"]));
        Assert.False(tok.IsSpecial(id["<|fim_prefix|>"])); // Qwen marks its FIM tokens as plain added tokens
        Assert.Equal(id["<|endoftext|>"] + 1, id["<|im_start|>"]);
        Assert.Equal(tok.VocabSize - 1, id["<|file_sep|>"]);
        FimPromptEqualsHfEncodingOfItsText("qwen2");
    }

    [Fact]
    public void StarCoder_specials_sit_first_in_the_vocabulary()
    {
        var tok = families.Tokenizer("starcoder");
        Assert.Equal(0, tok.EndOfText);
        Assert.Equal(new FimSentinels(1, 2, 3), tok.Fim);
        Assert.Equal(4, tok.FimPad);
        Assert.Equal(families.AddedIds("starcoder")["<reponame>"], tok.RepoName);
        Assert.Null(tok.FileSeparator);
        Assert.Null(tok.BeginOfText);
        Assert.Equal([1], tok.Encode("<fim_prefix>")); // unlike CodeLm's own tokenizer with the same five specials
        Assert.True(tok.IsSpecial(0) && tok.IsSpecial(18) && !tok.IsSpecial(19));
        FimPromptEqualsHfEncodingOfItsText("starcoder");
    }

    [Fact]
    public void DeepSeek_begins_with_bos_and_names_fim_by_hole()
    {
        var tok = families.Tokenizer("deepseek");
        var id = families.AddedIds("deepseek");
        Assert.Equal(id["<｜end▁of▁sentence｜>"], tok.EndOfText);
        Assert.Equal(id["<｜begin▁of▁sentence｜>"], tok.BeginOfText);
        Assert.Equal(new FimSentinels(Prefix: id["<｜fim▁begin｜>"], Middle: id["<｜fim▁end｜>"], Suffix: id["<｜fim▁hole｜>"]), tok.Fim);
        Assert.Contains("no FIM padding", Assert.Throws<InvalidOperationException>(() => tok.FimPad).Message);
        Assert.Null(tok.FileSeparator);
        Assert.Equal("<｜fim▁begin｜>", tok.Decode([tok.FimPrefix]));
        Assert.Equal([id["õ"]], tok.Encode("õ"));          // an added token for byte 0xF5, as in DeepSeek-Coder's file
        Assert.Equal(new byte[] { 0xF5 }, tok.DecodeBytes(tok.Encode("õ")));
        FimPromptEqualsHfEncodingOfItsText("deepseek");
    }

    [Fact]
    public void Gpt2_takes_eos_from_config_json_and_has_no_fim()
    {
        var tok = families.Tokenizer("gpt2");
        Assert.Equal(tok.VocabSize - 1, tok.EndOfText);
        Assert.Null(tok.BeginOfText);
        Assert.False(tok.HasFim);
        Assert.Contains("no fill-in-the-middle", Assert.Throws<InvalidOperationException>(() => tok.Fim).Message);
        Assert.Throws<InvalidOperationException>(() => tok.FimPrefix);
        Assert.Equal("<|endoftext|>", tok.Decode([tok.EndOfText]));
    }

    // The FIM layout built from ids (as training and the server build it) is what HF gives for the same text.
    private void FimPromptEqualsHfEncodingOfItsText(string family)
    {
        var tok = families.Tokenizer(family);
        string prefix = "def add(a, b):\n    ", suffix = "\n\nprint(add(1, 2))\n";
        var prompt = FimLayout.Prompt(FimFormat.Psm, tok.Fim, tok.Encode(prefix), tok.Encode(suffix));
        var text = tok.Decode(prompt);
        Assert.Equal(prompt, tok.Encode(text));
        var hf = HfReference.Encode(families.Dir(family), [text]);
        Assert.Equal(tok.BeginOfText is { } bos ? [bos, .. prompt] : prompt, hf.Ids[0]);
    }
}
