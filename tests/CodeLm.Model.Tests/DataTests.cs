using CodeLm.Model.Training;
using CodeLm.Tests;
using CodeLm.Tokenizer.Text;

namespace CodeLm.Model.Tests;

public class DataTests
{
    [Fact]
    public void Fim_produces_psm_and_spm_with_the_tokenizer_sentinels_and_loses_no_text()
    {
        using var tmp = new TempDir();
        var tok = TestData.Tokenizer(tmp.File("tok"));
        var fim = new FimTransform(tok.Encode, ids => tok.Decode(ids), new FimTokens(tok.EndOfText, tok.FimPrefix, tok.FimMiddle, tok.FimSuffix), rate: 1.0, spmRate: 0.5);
        var text = LanguageTag.Prefix("Python") + "def add(a, b):\n    return a + b  # sum ✓ 𝄞\n";
        var ids = tok.Encode(text);
        int psm = 0, spm = 0;
        for (int seed = 0; seed < 200; seed++)
        {
            var outIds = fim.Apply(ids, new Random(seed));
            Assert.Equal(tok.FimPrefix, outIds[0]);
            Assert.Equal(1, outIds.Count(t => t == tok.FimPrefix));
            Assert.Equal(1, outIds.Count(t => t == tok.FimSuffix));
            Assert.Equal(1, outIds.Count(t => t == tok.FimMiddle));
            int s = Array.IndexOf(outIds, tok.FimSuffix), m = Array.IndexOf(outIds, tok.FimMiddle);
            string prefix, middle, suffix;
            if (s == 1)
            {
                spm++; // <pre><suf> suffix <mid> prefix+middle
                suffix = tok.Decode(outIds[2..m]);
                var rest = tok.Decode(outIds[(m + 1)..]);
                Assert.StartsWith(LanguageTag.Prefix("Python"), rest);
                Assert.Equal(text, rest + suffix);
            }
            else
            {
                psm++;
                prefix = tok.Decode(outIds[1..s]);
                suffix = tok.Decode(outIds[(s + 1)..m]);
                middle = tok.Decode(outIds[(m + 1)..]);
                Assert.StartsWith(LanguageTag.Prefix("Python"), prefix);
                Assert.Equal(text, prefix + middle + suffix);
            }
        }
        Assert.InRange(psm, 70, 130);
        Assert.InRange(spm, 70, 130);

        var none = new FimTransform(tok.Encode, ids2 => tok.Decode(ids2), new FimTokens(0, 1, 2, 3), rate: 0.0);
        Assert.Equal(ids, none.Apply(ids, new Random(1)));
        var half = new FimTransform(tok.Encode, ids2 => tok.Decode(ids2), new FimTokens(0, 1, 2, 3), rate: 0.5);
        int transformed = Enumerable.Range(0, 400).Count(i => half.Apply(ids, new Random(i))[0] == tok.FimPrefix);
        Assert.InRange(transformed, 160, 240);
    }

    [Fact]
    public void Token_stream_concatenates_documents_with_eot_and_resumes_at_its_position()
    {
        var docs = new InMemoryDocuments([[10, 11, 12], [20, 21], [30, 31, 32, 33], [40]]);
        var stream = new TokenStream(docs, endOfText: 0, seed: 3, fim: null);
        var windows = new List<int[]>();
        var all = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            var w = new int[5];
            stream.Next(w);
            windows.Add(w);
            all.AddRange(i == 0 ? w : w[1..]); // consecutive windows overlap by one token
            if (i > 0) Assert.Equal(windows[i - 1][^1], w[0]);
        }
        // Epoch 0 covers every document exactly once, each followed by EOT.
        var epoch0 = all.Take(14).ToList();
        Assert.Equal(4, epoch0.Count(t => t == 0));
        Assert.Equal(new[] { 10, 11, 12, 20, 21, 30, 31, 32, 33, 40 }, epoch0.Where(t => t != 0).Order());

        var saved = stream.Position;
        var next = new int[5];
        stream.Next(next);
        var resumed = new TokenStream(docs, 0, 3, null, position: saved);
        var again = new int[5];
        resumed.Next(again);
        Assert.Equal(next, again);
    }
}
