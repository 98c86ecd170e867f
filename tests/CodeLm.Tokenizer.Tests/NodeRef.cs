using CodeLm.Tests;

namespace CodeLm.Tokenizer.Tests;

/// <summary>The node reference folder (HF tokenizers from npm); installs it with `npm ci` on first use.</summary>
public static class NodeRef
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        var dir = Path.Combine(TestPaths.RepoRoot, "tests", "node-ref");
        if (!File.Exists(Path.Combine(dir, "node_modules", "tokenizers", "package.json")))
        {
            var r = Proc.Run("npm", ["ci", "--no-audit", "--no-fund"], cwd: dir);
            Assert.True(r.ExitCode == 0, "npm ci failed in tests/node-ref: " + r.Stderr);
        }
        return dir;
    });

    public static string Folder => Dir.Value;

    public static Proc.Result Node(string script, params string[] args) =>
        Proc.Run("node", [Path.Combine(Folder, script), .. args], cwd: Folder);
}
