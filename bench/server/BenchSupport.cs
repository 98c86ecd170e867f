using CodeLm.Model;
using CodeLm.Model.Native;
using CodeLm.Tokenizer.Training;

/// <summary>What the server benchmarks share: the repository, the machine's load, the cases, a model, medians.</summary>
static class BenchSupport
{
    public static string LoadAverage() => string.Join('/', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "CodeLm.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("run inside the repository");
    }

    /// <summary>The `small` preset with random weights; <paramref name="contextLength"/> other than 0 replaces its 512.</summary>
    public static string MakeSmallCheckpoint(string temp, List<string> sources, int contextLength = 0) => MakeCheckpoint(temp, sources, "small", contextLength);

    /// <summary>A preset (`tiny`, `small`, ...) with random weights and a tokenizer trained on this repository's sources.</summary>
    public static string MakeCheckpoint(string temp, List<string> sources, string preset, int contextLength = 0)
    {
        TorchNativeLoader.EnsureLoaded();
        var tokDir = Path.Combine(temp, "tokenizer");
        BpeTrainer.Train(sources.Select(File.ReadAllText), new BpeTrainerOptions(VocabSize: 4096, Threads: 1)).Save(tokDir);
        TorchSharp.torch.manual_seed(1);
        // The preset's 32,768-row embedding and head are kept (the extra rows past the tokenizer are never sampled), so the
        // compute per token is the preset's.
        var config = GptConfig.Preset(preset);
        using var model = new Gpt(contextLength > 0 ? config with { ContextLength = contextLength } : config);
        var dir = Path.Combine(temp, preset);
        Checkpoint.Save(dir, model, tokDir);
        return dir;
    }

    // Each case: a C# file cut at a line end after >= `before` (1,500) characters: the `before` characters before the cursor
    // and up to `after` (400) after it.
    public static List<(string Text, int Offset)> MakeCases(List<string> sources, int n, int before, int after)
    {
        var cases = new List<(string, int)>();
        foreach (var path in sources)
        {
            var text = File.ReadAllText(path).Replace("\r\n", "\n");
            for (var at = before; at < text.Length - 50 && cases.Count < n; at += 900)
            {
                var lineEnd = text.IndexOf('\n', at);
                if (lineEnd < 0) break;
                var start = lineEnd - before;
                var end = Math.Min(text.Length, lineEnd + after);
                cases.Add((text[start..end], before));
            }
            if (cases.Count >= n) break;
        }
        return cases;
    }

    public static double Median(List<double> v) { var s = v.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

    /// <summary>The LSP position of a string offset.</summary>
    public static object Pos(string text, int offset)
    {
        var line = text[..offset].Count(c => c == '\n');
        return new { line, character = offset - (text.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1) };
    }

    public static double Percentile(List<double> values, double q)
    {
        var s = values.Order().ToList();
        return s[Math.Clamp((int)Math.Ceiling(q * s.Count) - 1, 0, s.Count - 1)];
    }

    /// <summary>The repository's C# sources, in a fixed order: the cases' documents and the random model's tokenizer corpus.</summary>
    public static List<string> CSharpSources(string root) =>
        Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains("/bin/") && !p.Contains("/obj/")).Order(StringComparer.Ordinal).ToList();
}
