using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CodeLm.DataPipeline.Corpus;

namespace CodeLm.Bench.Finetune;

/// <summary>
/// Greedy completions of the same prompts before and after fine-tuning, through `codelm sample` as a user runs it.
/// Prompts come from the held-out repository's validation files (never trained on by any of the three models): each
/// Python file is cut right after a one-line function header, so the model has to write the body of a function it has
/// not seen, in a file whose other code it has seen the start of.
/// </summary>
public static partial class GreedyCompletions
{
    [GeneratedRegex(@"^\s*(async\s+)?def \w+\(.*\)(\s*->.*)?:\s*$")]
    private static partial Regex Header();

    public static JsonArray Run(FineTuneSettings s, int files, int maxNewTokens)
    {
        var rows = new JsonArray();
        var prompts = Prompts(s, files);
        var models = new (string Name, string Dir)[]
        {
            ("pretrained", FineTuneBench.Pretrain(s)), ("full FT", FineTuneBench.Final(FineTuneBench.Full(s))), ("LoRA", FineTuneBench.Final(FineTuneBench.Lora(s))),
        };
        Directory.CreateDirectory(s.Path("prompts"));
        foreach (var (path, prompt, truth) in prompts)
        {
            var file = s.Path("prompts", path.Replace('/', '_'));
            File.WriteAllText(file, prompt);
            var row = new JsonObject { ["path"] = path, ["header"] = prompt.TrimEnd('\n').Split('\n')[^1].Trim(), ["truth"] = truth };
            foreach (var (name, dir) in models)
            {
                // float32 weights: the CPU's default int8 decoding steps could flip a near-tied greedy choice, and the
                // comparison is about what the weights learned. --language adds the tag line the models trained with.
                var (_, stdout) = s.Codelm.Run(s.Log, "sample", "--checkpoint", dir, $"--prompt=@{file}", "--language", "Python",
                    "--temperature", "0", "--max-new-tokens", maxNewTokens.ToString(), "--precision", "float32", "--device", "cpu",
                    "--threads", s.Threads.ToString(), "--json");
                row[name] = (string?)JsonNode.Parse(stdout.Trim().Split('\n')[^1])!["text"];
            }
            rows.Add(row);
        }
        File.WriteAllText(s.Path("completions.json"), rows.ToJsonString(new() { WriteIndented = true }));
        return rows;
    }

    /// <summary>
    /// Up to <paramref name="count"/> validation Python files of 40+ lines, by path; in each, the first one-line
    /// function header at line 20 or later (earlier when there is none), so the prompt carries the file's imports and
    /// some of its code. The truth is the next 60 characters of the file.
    /// </summary>
    private static List<(string Path, string Prompt, string Truth)> Prompts(FineTuneSettings s, int count)
    {
        var records = ReadAll(s.Path("holdout-corpus", CorpusFiles.Validation))
            .Where(r => r.Language == "Python").OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
        var result = new List<(string, string, string)>();
        foreach (var r in records)
        {
            var lines = r.Content.Split('\n');
            if (lines.Length < 40) continue;
            var headers = Enumerable.Range(0, lines.Length).Where(i => Header().IsMatch(lines[i])).ToList();
            if (headers.Count == 0) continue;
            int cut = headers.FirstOrDefault(i => i >= 20, headers[0]);
            var prompt = string.Join('\n', lines[..(cut + 1)]) + "\n";
            var rest = r.Content[prompt.Length..];
            result.Add((r.Path, prompt, rest[..Math.Min(60, rest.Length)]));
            if (result.Count == count) break;
        }
        return result;
    }

    private static List<CorpusRecord> ReadAll(string parquet)
    {
        var list = new List<CorpusRecord>();
        var e = CorpusFiles.ReadAsync(parquet).GetAsyncEnumerator();
        try { while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) list.Add(e.Current); }
        finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        return list;
    }
}
