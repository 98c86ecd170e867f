using System.Text;
using CodeLm.Model.Generation;

namespace CodeLm.Model.Tests.Generation;

[Collection(GenerationCollection.Name)]
public class CompletionTextTests(GenerationFixture fixture)
{
    private static readonly string[] PythonStops = ["\ndef ", "\nclass ", "\nif ", "\n#"];

    private static (List<string> Deltas, CompletionText Text) Feed(IReadOnlyList<string>? stops, params byte[][] tokens)
    {
        var text = new CompletionText(stops);
        var deltas = new List<string>();
        foreach (var t in tokens)
        {
            if (text.Stopped) break;
            deltas.Add(text.Append(t));
        }
        deltas.Add(text.Finish());
        return (deltas, text);
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void A_character_split_across_tokens_appears_once_complete()
    {
        var euro = B("€"); // 3 bytes
        var (deltas, text) = Feed(null, B("a"), euro[..1], euro[1..2], euro[2..], B("b"));
        Assert.Equal(new[] { "a", "", "", "€", "b", "" }, deltas);
        Assert.Equal("a€b", text.Text);
    }

    [Fact]
    public void A_stop_sequence_spanning_tokens_is_found_and_trimmed_and_never_streamed()
    {
        var (deltas, text) = Feed(PythonStops, B("x = 1"), B("\n"), B("de"), B("f foo():"));
        Assert.Equal(new[] { "x = 1", "", "", "", "" }, deltas);
        Assert.True(text.Stopped);
        Assert.Equal("x = 1", text.Text);
    }

    [Fact]
    public void Held_back_text_is_released_when_it_does_not_become_a_stop()
    {
        var (deltas, text) = Feed(PythonStops, B("x"), B("\n"), B("d"), B("o()"));
        Assert.Equal(new[] { "x", "", "", "\ndo()", "" }, deltas);
        Assert.False(text.Stopped);
        Assert.Equal("x\ndo()", text.Text);
    }

    [Fact]
    public void Text_held_back_at_the_end_is_flushed_by_finish()
    {
        var (deltas, text) = Feed(PythonStops, B("return x"), B("\nde"));
        Assert.Equal(new[] { "return x", "", "\nde" }, deltas);
        Assert.Equal("return x\nde", text.Text);
    }

    [Fact]
    public void The_earliest_of_several_stops_wins_even_inside_one_token()
    {
        var (_, text) = Feed(["END", "\n#"], B("a\n# c END"));
        Assert.Equal("a", text.Text);
        Assert.True(text.Stopped);
    }

    [Fact]
    public void A_stop_containing_a_multibyte_character_split_across_tokens_matches()
    {
        var stop = B("→x");
        var (_, text) = Feed(["→x"], B("ok "), stop[..2], stop[2..], B("tail"));
        Assert.Equal("ok ", text.Text);
        Assert.True(text.Stopped);
    }

    [Fact]
    public void A_dangling_partial_character_becomes_a_replacement_character_at_finish()
    {
        var (deltas, text) = Feed(null, B("ok"), [0xE2, 0x82]);
        Assert.Equal(new[] { "ok", "", "\uFFFD" }, deltas);
        Assert.Equal("ok\uFFFD", text.Text);
    }

    [Fact]
    public void Streaming_real_code_token_by_token_stops_exactly_where_the_text_first_contains_a_stop()
    {
        foreach (var code in fixture.PythonFiles)
        {
            var ids = fixture.Tokenizer.Encode(code);
            var text = new CompletionText(PythonStops);
            var streamed = new StringBuilder();
            foreach (var id in ids)
            {
                streamed.Append(text.Append(fixture.Tokenizer.TokenBytesOf(id)));
                if (text.Stopped) break;
            }
            streamed.Append(text.Finish());
            int cut = PythonStops.Select(s => code.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(code.Length).Min();
            Assert.Equal(code[..cut], text.Text);
            Assert.Equal(text.Text, streamed.ToString());
            Assert.Equal(cut < code.Length, text.Stopped);
        }
    }
}
