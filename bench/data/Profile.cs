using System.Diagnostics;
using System.Text;
using CodeLm.DataPipeline.Clean;
using CodeLm.DataPipeline.Dedup;
using LibGit2Sharp;

namespace CodeLm.Bench.Data;

/// <summary>Single-threaded time of each cleaning step over the same files, to find the hot spots.</summary>
public static class Profile
{
    public static void Run(string repoPath)
    {
        using var repo = new Repository(repoPath);
        var texts = new List<(string Path, string Lang, string Text)>();
        var sw = Stopwatch.StartNew();
        long bytes = 0;
        void Walk(Tree t, string prefix)
        {
            foreach (var e in t)
            {
                if (e.TargetType == TreeEntryTargetType.Tree) { Walk((Tree)e.Target, prefix + e.Name + "/"); continue; }
                if (e.TargetType != TreeEntryTargetType.Blob || e.Mode == Mode.SymbolicLink) continue;
                var lang = LanguageDetector.FromPath(e.Name);
                if (lang == null) continue;
                var blob = (Blob)e.Target;
                if (blob.Size > 1_000_000) continue;
                using var s = blob.GetContentStream();
                var buf = new byte[blob.Size];
                s.ReadExactly(buf);
                bytes += buf.Length;
                if (buf.AsSpan().Contains((byte)0)) continue;
                texts.Add((prefix + e.Name, lang, Encoding.UTF8.GetString(buf)));
            }
        }
        Walk(repo.Head.Tip.Tree, "");
        double mb = bytes / 1e6;
        Console.WriteLine($"read {texts.Count} files {mb:F1} MB in {sw.Elapsed.TotalSeconds:F2}s");
        void Time(string name, Action<(string Path, string Lang, string Text)> step, Func<(string, string, string), bool>? filter = null)
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long b = 0;
            foreach (var t in texts) if (filter == null || filter(t)) { step(t); b += t.Text.Length; }
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            Console.WriteLine($"{name,-14} {cpu,7:F3} cpu-s  {b / 1e6 / cpu,8:F1} MB per cpu-s (of {b / 1e6:F1} MB)");
        }
        var o = new CleaningOptions();
        var sig = new uint[256];
        var hasher = new MinHasher();
        var counts = new int[Redactor.KindCount];
        for (int rep = 0; rep < 2; rep++) {
        Console.WriteLine($"-- pass {rep + 1}");
        Time("measure", t => FileFilters.Measure(t.Text));
        Time("byContent", t => FileFilters.ByContent(t.Path, t.Lang, t.Text, FileFilters.Measure(t.Text), o));
        Time("redact", t => Redactor.Redact(t.Text, counts));
        Time("exactHash", t => ExactHash.Compute(t.Text));
        Time("minhash", t => hasher.Compute(t.Text, sig));
        var h16 = new MinHasher(16); var s16 = new uint[16];
        Time("shingle-only", t => h16.Compute(t.Text, s16));
        Time("roslyn", t => CSharpSyntaxCheck.FirstError(t.Text), t => t.Item2 == "C#");
        }
    }
}
