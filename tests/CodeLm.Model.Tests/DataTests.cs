using CodeLm.Common;
using CodeLm.Model.Training;
using CodeLm.Tests;

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
    public void Token_stream_cuts_documents_with_eot_into_windows_that_share_one_token()
    {
        var docs = new InMemoryDocuments([[10, 11, 12], [20, 21], [30, 31, 32, 33], [40]]);
        var stream = new TokenStream(docs, endOfText: 0, seed: 3, fim: null, shuffle: false);
        var windows = Enumerable.Range(0, 4).Select(_ => { var w = new int[5]; stream.Next(w); return w; }).ToList();
        // 14 tokens with EOTs, stride 4: four windows an epoch, the last wrapping around to the start, then the next
        // epoch starts over.
        Assert.Equal([10, 11, 12, 0, 20], windows[0]);
        Assert.Equal([20, 21, 0, 30, 31], windows[1]);
        Assert.Equal([31, 32, 33, 0, 40], windows[2]);
        Assert.Equal([40, 0, 10, 11, 12], windows[3]);
        Assert.Equal(new StreamPosition(1, 0), stream.Position);
    }

    [Fact]
    public void Token_stream_serves_every_token_once_an_epoch_in_random_order_and_resumes_at_its_position()
    {
        var docs = new InMemoryDocuments(Enumerable.Range(0, 50).Select(d => Enumerable.Range(100 * d + 1, 9).ToArray()).ToList());
        var stream = new TokenStream(docs, endOfText: 0, seed: 3, fim: null);
        int perEpoch = (50 * 10 - 1 + 7) / 8;
        var epoch0 = Enumerable.Range(0, perEpoch).Select(_ => { var w = new int[9]; stream.Next(w); return w; }).ToList();
        Assert.Equal(new StreamPosition(1, 0), stream.Position);
        // Every document token is in some window, and consecutive windows come from unrelated places.
        var seen = epoch0.SelectMany(w => w).Where(t => t != 0).ToHashSet();
        Assert.Equal(docs.Count * 9, seen.Count);
        Assert.True(epoch0.Zip(epoch0.Skip(1)).Count(p => p.First[^1] == p.Second[0]) < perEpoch / 4, "windows came in stream order");

        for (int i = 0; i < 5; i++) stream.Next(new int[9]);
        var saved = stream.Position;
        var next = new int[9];
        stream.Next(next);
        var resumed = new TokenStream(docs, 0, 3, null, position: saved);
        var again = new int[9];
        resumed.Next(again);
        Assert.Equal(next, again);
    }

    [Fact]
    public void A_family_with_a_begin_of_text_id_gets_it_before_every_document()
    {
        var docs = new InMemoryDocuments([[10, 11, 12], [20, 21]]);
        var stream = new TokenStream(docs, endOfText: 0, seed: 3, fim: null, shuffle: false, beginOfText: 99);
        var windows = Enumerable.Range(0, 2).Select(_ => { var w = new int[5]; stream.Next(w); return w; }).ToList();
        Assert.Equal([99, 10, 11, 12, 0], windows[0]);
        Assert.Equal([0, 99, 20, 21, 0], windows[1]);
        Assert.Equal(new StreamPosition(1, 0), stream.Position);
    }

    [Fact]
    public void Shards_are_read_without_their_stored_framing_so_one_end_of_text_separates_documents()
    {
        using var tmp = new TempDir();
        var (data, tok, handles) = ShardData.Open(TestData.Shards(tmp.Path));
        using var _ = handles;
        for (var i = 0; i < data.Train.Count; i++)
        {
            var doc = data.Train.GetDocument(i);
            Assert.DoesNotContain(tok.EndOfText, doc);
            Assert.Equal(doc.Length, data.Train.Length(i));
            Assert.StartsWith(LanguageTag.Prefix("Python"), tok.Decode(doc));
        }
        foreach (var fimRate in new[] { 0.0, 1.0 })
        {
            var stream = data.TrainStream(TestData.Options(tmp.Path) with { FimRate = fimRate });
            for (var n = 0; n < 100; n++)
            {
                var w = new int[33];
                stream.Next(w);
                for (var j = 0; j + 1 < w.Length; j++) Assert.False(w[j] == tok.EndOfText && w[j + 1] == tok.EndOfText, $"two end-of-text ids in a row (FIM rate {fimRate})");
            }
        }
    }

    [Fact]
    public void Manifests_from_before_the_framing_was_recorded_still_open()
    {
        using var tmp = new TempDir();
        var shards = TestData.Shards(tmp.Path);
        var path = Path.Combine(shards, CodeLm.Tokenizer.Shards.ShardManifest.FileName);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(json.Remove("documents"));
        File.WriteAllText(path, json.ToJsonString());

        var (data, tok, handles) = ShardData.Open(shards);
        using var _ = handles;
        Assert.DoesNotContain(tok.EndOfText, data.Train.GetDocument(0));
        Assert.Equal(data.Train.GetDocument(0).Length + 1, data.Train.Length(0)); // lengths as stored
    }

    /// <summary>
    /// Shards made with a model's tokenizer (Qwen2.5-Coder's layout, trained by HF tokenizers itself) train with that
    /// model's FIM sentinels and end-of-text, and without CodeLm's tag line.
    /// </summary>
    [Fact]
    public void Fim_at_train_time_uses_a_model_tokenizers_own_sentinels()
    {
        using var tmp = new TempDir();
        var clone = tmp.File("requests");
        Assert.Equal(0, Proc.Run("git", ["clone", "-q", TestPaths.SharedCorpus("requests"), clone]).ExitCode);
        var files = Directory.GetFiles(clone, "*.py", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(30).ToList();
        File.WriteAllLines(tmp.File("files.txt"), files);
        var shardDir = tmp.File("shards");
        var tokDir = Path.Combine(shardDir, "tokenizer");
        var node = Proc.Run("node", [Path.Combine(TestPaths.RepoRoot, "tests", "node-ref", "hf-train-family.js"), "qwen2", tmp.File("files.txt"), tokDir]);
        Assert.True(node.ExitCode == 0, node.Stderr);
        var tok = CodeLm.Tokenizer.CodeTokenizer.Load(tokDir);
        var added = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(tokDir, "tokenizer.json")))!["added_tokens"]!.AsArray()
            .ToDictionary(t => t!["content"]!.GetValue<string>(), t => t!["id"]!.GetValue<int>());
        var texts = files.Select(File.ReadAllText).Where(t => t.Length > 0).ToList();
        TestData.Shards(shardDir, tok, texts[..20], texts[20..]);

        var (data, _, handles) = ShardData.Open(shardDir);
        using var _ = handles;
        Assert.Equal(new FimTokens(added["<|endoftext|>"], added["<|fim_prefix|>"], added["<|fim_middle|>"], added["<|fim_suffix|>"]), data.Tokens);
        var fim = new FimTransform(tok.Encode, ids => tok.Decode(ids), data.Tokens, rate: 1, spmRate: 0);
        var stream = new TokenStream(data.Train, data.Tokens.EndOfText, seed: 5, fim, shuffle: false);
        var window = new int[data.Train.Length(0) + 64];
        stream.Next(window);
        var first = window[..Array.IndexOf(window, data.Tokens.EndOfText)];
        int s = Array.IndexOf(first, added["<|fim_suffix|>"]), m = Array.IndexOf(first, added["<|fim_middle|>"]);
        Assert.Equal(added["<|fim_prefix|>"], first[0]);
        Assert.True(0 < s && s < m, string.Join(",", first.Take(8)));
        Assert.Equal(texts[0], tok.Decode(first[1..s]) + tok.Decode(first[(m + 1)..]) + tok.Decode(first[(s + 1)..m])); // no tag line added
    }
}
