using System.Text.Json;
using CodeLm.Tests;

namespace CodeLm.Tokenizer.Tests;

/// <summary>HF tokenizers (npm, run in node) on a tokenizer.json: the reference CodeTokenizer's ids must equal.</summary>
public static class HfReference
{
    public sealed record Output(int[][] Ids, string[] Decoded);

    /// <summary>HF's ids (with its post-processor's tokens, e.g. a begin-of-sentence) and its decoding of them.</summary>
    public static Output Encode(string tokenizerDir, IReadOnlyList<string> texts)
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("texts.json"), JsonSerializer.Serialize(texts));
        var r = NodeRef.Node("hf-encode.js", Path.Combine(tokenizerDir, "tokenizer.json"), tmp.File("texts.json"), tmp.File("out.json"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var output = JsonSerializer.Deserialize<Output>(File.ReadAllText(tmp.File("out.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(texts.Count, output.Ids.Length);
        return output;
    }

    public static int FirstDifference<T>(IReadOnlyList<T> a, IReadOnlyList<T> b)
    {
        var n = Math.Min(a.Count, b.Count);
        for (var i = 0; i < n; i++) if (!EqualityComparer<T>.Default.Equals(a[i], b[i])) return i;
        return n;
    }
}
