using System.Text;
using System.Text.RegularExpressions;

namespace CodeLm.Tokenizer.Tests;

public class PreTokenizerTests
{
    private static readonly Regex Rule = new(CodePreTokenizer.Pattern, RegexOptions.CultureInvariant);

    private static List<string> Scan(string s) => CodePreTokenizer.Split(s).Select(r => s[r]).ToList();

    // .NET's regex works on UTF-16 units, so compare on BMP text (the HF test covers astral characters).
    private static List<string> ByRegex(string s) => Rule.Matches(s).Select(m => m.Value).ToList();

    [Theory]
    [InlineData("def foo(x):\n    return x + 1\n", new[] { "def", " foo", "(", "x", "):\n", "   ", " return", " x", " +", " ", "1", "\n" })]
    [InlineData("\tif (a) {\n\t\tb();\n\t}", new[] { "\t", "if", " (", "a", ")", " {\n", "\t\t", "b", "();\n", "\t", "}" })]
    [InlineData("x = 1234", new[] { "x", " =", " ", "1", "2", "3", "4" })]
    [InlineData("snake_case __init__ camelCase", new[] { "snake_case", " __init__", " camelCase" })]
    [InlineData("a\r\n\r\n  b  ", new[] { "a", "\r\n\r\n", " ", " b", "  " })]
    [InlineData("", new string[0])]
    public void Splits_code_as_documented(string text, string[] expected)
    {
        Assert.Equal(expected, Scan(text));
        Assert.Equal(expected, ByRegex(text));
    }

    [Fact]
    public void Indentation_is_one_piece_whatever_its_depth()
    {
        Assert.Equal(["\n", new string(' ', 15), " x"], Scan("\n" + new string(' ', 16) + "x"));
        Assert.Contains("\t\t\t\t", Scan("{\n\t\t\t\tx"));
    }

    [Fact]
    public void Scanner_equals_the_regex_on_random_text()
    {
        var rng = new Random(1234);
        string[] alphabet = [" ", " ", " ", "\t", "\n", "\r", "a", "Z", "_", "9", "٣", "(", "{", ";", "'", "\"", "é", "\u0301", "中", "\u3000", "\u00A0", "\u2028", "\u000B", "\u001F", "#", "-", "ⅷ"];
        for (var n = 0; n < 3000; n++)
        {
            var sb = new StringBuilder();
            var len = rng.Next(0, 40);
            for (var i = 0; i < len; i++) sb.Append(alphabet[rng.Next(alphabet.Length)]);
            var s = sb.ToString();
            Assert.Equal(ByRegex(s), Scan(s));
        }
    }

    [Fact]
    public void Scanner_equals_the_regex_on_real_files()
    {
        foreach (var (path, text) in CorpusRepos.TextFiles("requests"))
        {
            if (text.Any(char.IsSurrogate)) continue;
            Assert.True(ByRegex(text).SequenceEqual(Scan(text)), path);
        }
    }

    [Fact]
    public void Pieces_cover_the_text_exactly()
    {
        const string s = "a\u00A0b \ud83d\ude00 \ud800x 𝟘𝟙 😀😀";
        Assert.Equal(s, string.Concat(Scan(s)));
        Assert.Equal(["𝟘", "𝟙"], Scan("𝟘𝟙")); // astral digits are split per code point, not per UTF-16 unit
    }
}
