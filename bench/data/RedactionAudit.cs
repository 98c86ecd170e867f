using System.Text;
using CodeLm.DataPipeline.Clean;
using LibGit2Sharp;

namespace CodeLm.Bench.Data;

/// <summary>Prints every line the redactor changes in the given repositories, to audit false positives by eye.</summary>
public static class RedactionAudit
{
    public static void Run(IEnumerable<string> repoPaths)
    {
        foreach (var path in repoPaths)
        {
            using var repo = new Repository(path);
            void Walk(Tree t, string prefix)
            {
                foreach (var e in t)
                {
                    if (e.TargetType == TreeEntryTargetType.Tree) { Walk((Tree)e.Target, prefix + e.Name + "/"); continue; }
                    if (e.TargetType != TreeEntryTargetType.Blob || e.Mode == Mode.SymbolicLink) continue;
                    var blob = (Blob)e.Target;
                    if (blob.Size > 1_000_000 || blob.IsBinary) continue;
                    var text = blob.GetContentText(Encoding.UTF8);
                    var counts = new int[Redactor.KindCount];
                    var red = Redactor.Redact(text, counts);
                    if (ReferenceEquals(red, text)) continue;
                    var a = text.Split('\n'); var b = red.Split('\n');
                    for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
                        if (a[i] != b[i]) Console.WriteLine($"{Path.GetFileName(path)}/{prefix}{e.Name}:{i + 1}: {a[i].Trim()[..Math.Min(120, a[i].Trim().Length)]}\n    -> {b[i].Trim()[..Math.Min(120, b[i].Trim().Length)]}");
                }
            }
            Walk(repo.Head.Tip.Tree, "");
        }
    }
}
