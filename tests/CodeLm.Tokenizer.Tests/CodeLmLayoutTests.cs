namespace CodeLm.Tokenizer.Tests;

/// <summary>
/// CodeLm's own tokenizer.json keeps its rules under the HF loader: special-token strings in text stay plain text
/// (HF tokenizers, reading the same file, would match them), and its control ids are the fixed ones.
/// </summary>
[Collection(TrainedCollection.Name)]
public class CodeLmLayoutTests(TrainedTokenizer trained)
{
    [Fact]
    public void Special_token_strings_in_text_stay_plain_text_unlike_HF()
    {
        var tok = trained.Tokenizer;
        string[] texts = ["<fim_prefix>", "a<fim_suffix>b<fim_middle>", "<|endoftext|>"];
        var hf = HfReference.Encode(trained.Directory, texts);
        Assert.Equal([1], hf.Ids[0]);                                   // HF matches the added token...
        for (var i = 0; i < texts.Length; i++)
        {
            var ids = tok.Encode(texts[i]);
            Assert.DoesNotContain(ids, tok.IsSpecial);                   // ...CodeLm never makes a special from text
            Assert.Equal(texts[i], tok.Decode(ids));
        }
    }

    [Fact]
    public void Control_ids_are_CodeLms_fixed_ones()
    {
        var tok = trained.Tokenizer;
        Assert.Equal(0, tok.EndOfText);
        Assert.Null(tok.BeginOfText);
        Assert.True(tok.HasFim);
        Assert.Equal(new Common.FimSentinels(1, 2, 3), tok.Fim);
        Assert.Equal(4, tok.FimPad);
        Assert.Null(tok.FileSeparator);
        Assert.Null(tok.RepoName);
        Assert.Equal(Enumerable.Range(0, 5), Enumerable.Range(0, tok.VocabSize).Where(tok.IsSpecial));
    }
}
