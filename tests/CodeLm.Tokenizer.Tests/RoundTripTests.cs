using System.Text;

namespace CodeLm.Tokenizer.Tests;

[Collection(TrainedCollection.Name)]
public class RoundTripTests(TrainedTokenizer trained)
{
    private CodeTokenizer Tok => trained.Tokenizer;

    [Theory]
    [InlineData("")]
    [InlineData("line1\r\nline2\r\n")]
    [InlineData("\tindented\n\t\tmore\n")]
    [InlineData("\uFEFFBOM first")]
    [InlineData("emoji 😀 👨‍👩‍👧 🏳️‍🌈")]
    [InlineData("中文 日本語 한국어")]
    [InlineData("<|endoftext|><fim_prefix> plain text, not specials")]
    [InlineData("\0\u0001\u007F\u0085\u00A0")]
    public void Decode_of_encode_is_identity(string text) => Assert.Equal(text, Tok.Decode(Tok.Encode(text)));

    [Fact]
    public void Special_strings_in_text_are_not_specials()
    {
        var ids = Tok.Encode("<|endoftext|>");
        Assert.DoesNotContain(ids, id => id < SpecialTokens.All.Count);
        Assert.Equal("<|endoftext|>", Tok.Decode([Tok.EndOfText]));
        Assert.Equal("<fim_prefix>a<fim_suffix>b<fim_middle>", Tok.Decode([Tok.FimPrefix, .. Tok.Encode("a"), Tok.FimSuffix, .. Tok.Encode("b"), Tok.FimMiddle]));
    }

    [Fact]
    public void Lone_surrogates_become_the_replacement_character()
    {
        Assert.Equal("a\uFFFDb\uFFFD", Tok.Decode(Tok.Encode("a\uD800b\uDC00")));
        Assert.Equal(Tok.Encode("x\uFFFD"), Tok.Encode("x\uDBFF"));
    }

    [Fact]
    public void Invalid_utf8_from_ids_decodes_to_replacement_characters()
    {
        var euro = Tok.Encode("€"); // 3 bytes; decode just its first byte
        var first = Tok.DecodeBytes(euro)[0];
        Assert.Equal("\uFFFD", Tok.Decode([SpecialTokens.FirstByteId + first]));
        Assert.Equal([0xE2, 0x82, 0xAC], Tok.DecodeBytes(euro));
    }

    [Fact]
    public void Random_strings_round_trip()
    {
        var rng = new Random(42);
        for (var n = 0; n < 2000; n++)
        {
            var sb = new StringBuilder();
            var len = rng.Next(0, 60);
            for (var i = 0; i < len; i++)
            {
                var pick = rng.Next(10);
                if (pick < 4) sb.Append((char)rng.Next(0x20, 0x7F));
                else if (pick < 5) sb.Append("\t\n\r "[rng.Next(4)]);
                else if (pick < 8) sb.Append((char)rng.Next(0xA0, 0xD800));        // BMP below surrogates
                else if (pick < 9) sb.Append(char.ConvertFromUtf32(rng.Next(0x10000, 0x10FFFF)));
                else sb.Append((char)rng.Next(0xE000, 0x10000));
            }
            var s = sb.ToString();
            Assert.Equal(s, Tok.Decode(Tok.Encode(s)));
        }
    }

    [Fact]
    public void Random_utf16_with_lone_surrogates_round_trips_to_its_utf8_reading()
    {
        var rng = new Random(7);
        for (var n = 0; n < 1000; n++)
        {
            var chars = new char[rng.Next(0, 30)];
            for (var i = 0; i < chars.Length; i++) chars[i] = (char)rng.Next(0, 0x10000);
            var s = new string(chars);
            var expected = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s)); // lone surrogates → U+FFFD
            Assert.Equal(expected, Tok.Decode(Tok.Encode(s)));
        }
    }

    [Fact]
    public void Real_files_round_trip_and_compress()
    {
        long chars = 0, tokens = 0;
        foreach (var (path, text) in CorpusRepos.TextFiles("express"))
        {
            var ids = Tok.Encode(text);
            Assert.True(text == Tok.Decode(ids), path);
            chars += text.Length;
            tokens += ids.Length;
        }
        Assert.True(chars / (double)tokens > 2.0, $"only {chars / (double)tokens:F2} chars per token");
    }

    [Fact]
    public void Encoding_is_thread_safe()
    {
        var files = CorpusRepos.TextFiles("requests").Select(f => f.Text).Take(60).ToArray();
        var serial = files.Select(Tok.Encode).ToArray();
        var parallel = new int[files.Length][];
        Parallel.For(0, files.Length, i => parallel[i] = trained.Tokenizer.Encode(files[i]));
        for (var i = 0; i < files.Length; i++) Assert.Equal(serial[i], parallel[i]);
    }
}
