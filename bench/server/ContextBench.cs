using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CodeLm.Common;
using CodeLm.Model.Generation;
using CodeLm.Server.Context;
using CodeLm.Tokenizer;

/// <summary>
/// How often repository context holds what the next line needs, without needing a good model. In each repository of
/// the shared corpus: positions at the start of a line that uses a name defined in exactly one other file of the
/// repository (and not in its own). Per position, the ranker (`ContextRanker`, as `codelm serve` runs it) ranks the
/// other files, which are packed under a token budget (`RepoContext.Pack`, comment headers, the `small` checkpoint's
/// tokenizer); a hit is a packed piece of the defining file holding the definition's first line. Candidates: every
/// other file of the repository (a workspace index), or that file and 9 others picked at random (open tabs). Then the
/// prefill time the context adds, on the `small` preset with random weights. Usage:
///   dotnet bench/server/bin/Release/net10.0/CodeLm.Bench.Server.dll context [--corpus DIR] [--positions 60] [--latency 30] [--model DIR]
/// With --model (a checkpoint or a Hugging Face model folder), its greedy line completion at each position, through the
/// server's engine and post-processing, is scored against the real next line, with and without the context: exact
/// match and edit similarity (1 − Levenshtein distance / the longer length), as CodeXGLUE and RepoBench score lines.
/// </summary>
static partial class ContextBench
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly int[] Budgets = [256, 512, 1024];

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Word();

    private sealed record Position(string Repo, string File, int Offset, string Name, string DefiningFile, string DefinitionLine);

    public static async Task<int> RunAsync(string[] args)
    {
        string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        var root = BenchSupport.FindRepoRoot();
        var corpus = Arg("--corpus") ?? Path.Combine(root, "..", "shared", "corpus");
        var perRepo = int.Parse(Arg("--positions") ?? "60", Inv);
        var latencyPositions = int.Parse(Arg("--latency") ?? "30", Inv);
        var temp = Directory.CreateTempSubdirectory("codelm-bench-context-").FullName;
        try
        {
            // `small`'s shape with a 2,048-token context, so the engine's cap (a quarter of the context) allows 512 tokens of context.
            var checkpoint = BenchSupport.MakeSmallCheckpoint(temp, BenchSupport.CSharpSources(root), contextLength: 2048);
            using var generator = Generator.Load(checkpoint, TorchSharp.torch.CPU);
            var tokenizer = generator.Tokenizer;
            Console.WriteLine($"# repository context retrieval: {corpus}, up to {perRepo} positions a repository; {Environment.ProcessorCount} cores, " +
                              $"load average {BenchSupport.LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            Console.WriteLine();
            Console.WriteLine("| repository | files | positions | " + string.Join(" | ", Budgets.Select(b => $"recall@{b}, all files")) + " | recall@512, windows only | recall@512, 10 open files | recall@512 where the name is used above / not | ranking ms p50 / p95 |");
            Console.WriteLine("|---|---:|---:|" + string.Concat(Enumerable.Repeat("---:|", Budgets.Length + 4)));
            var all = new List<(Position P, string Text, Dictionary<string, string> Files)>();
            var scored = new List<(Position P, string Text, IReadOnlyList<ContextFile> Ranked)>();
            var totals = new double[Budgets.Length + 2];
            var count = 0;
            var rankMs = new List<double>();
            int totalAbove = 0, totalHitsAbove = 0, totalHitsNotAbove = 0;
            var repositories = Directory.GetDirectories(corpus, "*.git").Order(StringComparer.Ordinal).ToList();
            if (repositories.Count == 0) throw new DirectoryNotFoundException($"no *.git repositories in {corpus}");
            var latencyPerRepo = Math.Max(1, latencyPositions / repositories.Count);
            foreach (var bare in repositories)
            {
                var files = Checkout(bare, Path.Combine(temp, Path.GetFileNameWithoutExtension(bare)));
                var positions = Positions(Path.GetFileNameWithoutExtension(bare), files, perRepo);
                var hits = new int[Budgets.Length + 2];
                int usedAbove = 0, hitsAbove = 0, hitsNotAbove = 0;
                var repoMs = new List<double>();
                var random = new Random(1);
                var ranker = new ContextRanker(); // one per repository, as the server keeps one: each file is cut once
                var sources = files.Select(f => new ContextRanker.Source(f.Key, 1, f.Key, f.Value)).ToList();
                ranker.Rank("abc\n", 4, sources); // cut every file first, as a running server has: the timing below is the per-request cost
                foreach (var p in positions)
                {
                    var text = files[p.File];
                    var others = sources.Where(o => o.Path != p.File).ToList();
                    var clock = Stopwatch.StartNew();
                    var ranked = ranker.Rank(text, p.Offset, others);
                    repoMs.Add(clock.Elapsed.TotalMilliseconds);
                    scored.Add((p, text, ranked));
                    var language = LanguageTable.FromExtension(Path.GetExtension(p.File))!.Name;
                    for (var b = 0; b < Budgets.Length; b++) hits[b] += Hit(tokenizer, ranked, Budgets[b], p, language) ? 1 : 0;
                    var above = Regex.IsMatch(text[..p.Offset], $@"\b{Regex.Escape(p.Name)}\b");
                    usedAbove += above ? 1 : 0;
                    if (Hit(tokenizer, ranked, 512, p, language)) { if (above) hitsAbove++; else hitsNotAbove++; }
                    hits[Budgets.Length] += Hit(tokenizer, ranker.Rank(text, p.Offset, others, definitions: false), 512, p, language) ? 1 : 0;
                    var open = others.Where(o => o.Path == p.DefiningFile).Concat(others.Where(o => o.Path != p.DefiningFile).OrderBy(_ => random.Next()).Take(9)).ToList();
                    hits[Budgets.Length + 1] += Hit(tokenizer, ranker.Rank(text, p.Offset, open), 512, p, language) ? 1 : 0;
                    if (all.Count(a => a.P.Repo == p.Repo) < latencyPerRepo && all.Count < latencyPositions) all.Add((p, text, files));
                }
                rankMs.AddRange(repoMs);
                for (var i = 0; i < hits.Length; i++) totals[i] += hits[i];
                count += positions.Count;
                string Pct(int h) => positions.Count == 0 ? "–" : ((double)h / positions.Count).ToString("P0", Inv);
                string Of(int h, int n) => n == 0 ? "–" : $"{h}/{n}";
                totalAbove += usedAbove; totalHitsAbove += hitsAbove; totalHitsNotAbove += hitsNotAbove;
                Console.WriteLine($"| {Path.GetFileNameWithoutExtension(bare)} | {files.Count} | {positions.Count} | {string.Join(" | ", hits.Select(Pct))} | " +
                                  $"{Of(hitsAbove, usedAbove)} / {Of(hitsNotAbove, positions.Count - usedAbove)} | " +
                                  $"{(repoMs.Count == 0 ? "–" : $"{BenchSupport.Median(repoMs):F1} / {BenchSupport.Percentile(repoMs, 0.95):F1}")} |");
            }
            Console.WriteLine($"| **all** | | **{count}** | {string.Join(" | ", totals.Select(t => $"**{(t / count).ToString("P1", Inv)}**"))} | " +
                              $"{totalHitsAbove}/{totalAbove} / {totalHitsNotAbove}/{count - totalAbove} | {BenchSupport.Median(rankMs):F1} / {BenchSupport.Percentile(rankMs, 0.95):F1} |");
            Console.WriteLine();
            Console.WriteLine("Without the feature the prompt holds none of another file: recall 0 by construction.");
            await PrefillAsync(generator, all);
            if (Arg("--model") is { } model) LineCompletions(Path.GetFullPath(model), scored);
            return 0;
        }
        finally
        {
            try { Directory.Delete(temp, true); } catch (IOException) { }
        }
    }

    /// <summary>The source files of a repository (languages CodeLm knows, under 200 kB), by path.</summary>
    private static Dictionary<string, string> Checkout(string bare, string dir)
    {
        var git = Process.Start(new ProcessStartInfo("git", ["clone", "-q", bare, dir]) { RedirectStandardError = true })!;
        git.WaitForExit();
        if (git.ExitCode != 0) throw new InvalidOperationException($"git clone {bare} failed: {git.StandardError.ReadToEnd()}");
        return Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/.git/") && LanguageTable.FromExtension(Path.GetExtension(f)) != null && new FileInfo(f).Length < 200_000)
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => File.ReadAllText(f).Replace("\r\n", "\n"));
    }

    /// <summary>Line starts whose line uses a name defined in exactly one other file, spread evenly over the repository.</summary>
    private static List<Position> Positions(string repo, Dictionary<string, string> files, int most)
    {
        var definedIn = new Dictionary<string, List<(string File, string Line)>>(StringComparer.Ordinal);
        var own = new Dictionary<string, IReadOnlyDictionary<string, Snippet>>();
        foreach (var (path, text) in files)
        {
            own[path] = new CodeSnippets(path, text).Definitions;
            foreach (var (name, d) in own[path])
            {
                if (!definedIn.TryGetValue(name, out var list)) definedIn[name] = list = [];
                list.Add((path, d.Text.Split('\n')[0]));
            }
        }
        var found = new List<Position>();
        foreach (var (path, text) in files)
        {
            var offset = 0;
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; offset += lines[i].Length + 1, i++)
            {
                if (i < 5) continue;
                foreach (Match m in Word().Matches(lines[i]))
                    if (m.Length >= 4 && !own[path].ContainsKey(m.Value) && definedIn.TryGetValue(m.Value, out var defs) && defs.Count == 1 && defs[0].File != path)
                    {
                        found.Add(new Position(repo, path, offset, m.Value, defs[0].File, defs[0].Line));
                        break;
                    }
            }
        }
        var step = Math.Max(1, found.Count / Math.Max(1, most));
        return found.Where((_, k) => k % step == 0).Take(most).ToList();
    }

    private static bool Hit(CodeTokenizer t, IReadOnlyList<ContextFile> ranked, int budget, Position p, string language)
    {
        var (kept, _) = RepoContext.Pack(t, ranked, budget, p.Repo, p.File, language);
        return kept.Any(f => f.Path == p.DefiningFile && f.Text.Contains(p.DefinitionLine, StringComparison.Ordinal));
    }

    /// <summary>Prefill time of the same prompt with and without its context (512 tokens), alternated, on a fresh cache.</summary>
    private static Task PrefillAsync(Generator generator, List<(Position P, string Text, Dictionary<string, string> Files)> sample)
    {
        var t = generator.Tokenizer;
        var options = new SamplingOptions(1) { FimFormat = FimFormat.Spm, MaxPromptTokens = 1024 };
        var contextBudget = generator.ContextLength / 4; // the engine's cap
        var with = new List<double>();
        var without = new List<double>();
        var contextTokens = new List<double>();
        var warm = Math.Min(3, sample.Count);
        foreach (var (p, text, files) in sample.Concat(sample.Take(warm))) // the first ones again: JIT and caches warm on both sides
        {
            var language = LanguageTable.FromExtension(Path.GetExtension(p.File))!.Name;
            var ranked = new ContextRanker().Rank(text, p.Offset, files.Where(f => f.Key != p.File).Select(f => new ContextRanker.Source(f.Key, 1, f.Key, f.Value)));
            var (_, ids) = RepoContext.Pack(t, ranked, contextBudget, p.Repo, p.File, language);
            var prefix = LanguageTag.Prefix(language) + text[..p.Offset];
            var suffix = text[p.Offset..];
            double Time(IReadOnlyList<int>? context)
            {
                var prompt = generator.BuildFimPrompt(prefix, suffix, options, context);
                var clock = Stopwatch.StartNew();
                generator.GenerateTokens(prompt, 1, options);
                return clock.Elapsed.TotalMilliseconds;
            }
            // Alternate which goes first.
            if (with.Count % 2 == 0) { with.Add(Time(ids)); without.Add(Time(null)); }
            else { without.Add(Time(null)); with.Add(Time(ids)); }
            contextTokens.Add(ids.Length);
        }
        (with, without, contextTokens) = (with.Skip(warm).ToList(), without.Skip(warm).ToList(), contextTokens.Skip(warm).ToList()); // drop the warm-up rounds
        if (with.Count == 0) return Task.CompletedTask;
        Console.WriteLine();
        Console.WriteLine($"Prefill (`small`'s shape with a 2,048-token context, random weights, a fresh KV cache; prompt budget 1,024 tokens, context {contextBudget}), {with.Count} positions, alternated:");
        Console.WriteLine();
        Console.WriteLine("| prompt | p50 ms | p95 ms | context tokens (mean) |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| without context (anchor) | {BenchSupport.Median(without):F1} | {BenchSupport.Percentile(without, 0.95):F1} | 0 |");
        Console.WriteLine($"| with context | {BenchSupport.Median(with):F1} | {BenchSupport.Percentile(with, 0.95):F1} | {contextTokens.Average():F0} |");
        var added = with.Zip(without, (x, y) => x - y).ToList();
        Console.WriteLine($"| added by the context | {BenchSupport.Median(added):F1} | {BenchSupport.Percentile(added, 0.95):F1} | |");
        return Task.CompletedTask;
    }

    /// <summary>Exact match and edit similarity of the model's line completions, without and with the context (512 tokens, as the engine caps it).</summary>
    private static void LineCompletions(string model, List<(Position P, string Text, IReadOnlyList<ContextFile> Ranked)> positions)
    {
        using var engine = CodeLm.Server.Engine.CheckpointCompletionEngine.Load(model);
        var results = new Dictionary<bool, List<(bool Exact, double Similarity)>> { [false] = [], [true] = [] };
        foreach (var (p, text, ranked) in positions)
        {
            var lineEnd = text.IndexOf('\n', p.Offset);
            var expected = (lineEnd < 0 ? text[p.Offset..] : text[p.Offset..lineEnd]).Trim();
            var cursor = CodeLm.Common.Completion.CursorContext.Create(text, p.Offset);
            var language = LanguageTable.FromExtension(Path.GetExtension(p.File))!.Name;
            foreach (var withContext in new[] { false, true })
            {
                var options = new CodeLm.Server.Completion.EngineOptions(48, 0, FimFormat.Spm, 1024) { RepoContextTokens = withContext ? 512 : 0 };
                var prompt = CodeLm.Server.Completion.CompletionPrompt.Around(cursor, language) with { Context = withContext ? ranked : [], Path = p.File, Repo = p.Repo };
                var fitted = engine.Fit(prompt, options);
                var raw = engine.Complete(fitted, options, soFar => CodeLm.Common.Completion.CompletionShaper.ShouldStop(cursor, soFar), default);
                var got = (CodeLm.Common.Completion.CompletionShaper.Shape(cursor, raw)?.InsertText ?? "").Split('\n')[0].Trim();
                results[withContext].Add((got == expected, Similarity(got, expected)));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Greedy line completions of {model} at the same {positions.Count} positions (maxNewTokens 48, prompt budget 1,024, SPM):");
        Console.WriteLine();
        Console.WriteLine("| prompt | exact match | edit similarity (mean) |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (withContext, r) in results)
            Console.WriteLine($"| {(withContext ? $"with context ({Math.Min(512, engine.ContextLength / 4)} tokens: 512, capped at a quarter of the model's context)" : "without context")} | {r.Count(x => x.Exact) / (double)r.Count:P1} | {r.Average(x => x.Similarity):F3} |");
    }

    /// <summary>1 − Levenshtein distance / the longer length (1 when both are empty).</summary>
    private static double Similarity(string a, string b)
    {
        if (a.Length == 0 && b.Length == 0) return 1;
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return 1 - (double)row[b.Length] / Math.Max(a.Length, b.Length);
    }
}
