using System.Text.Json;
using CodeLm.Server.Completion;
using CodeLm.Server.Tests.Support;
using CodeLm.Tests;

namespace CodeLm.Server.Tests;

/// <summary>Neovim's built-in LSP client (Debian's 0.7), headless, requests textDocument/completion from the real server.</summary>
[Collection(TinyCheckpointCollection.Name)]
public sealed class NeovimClientTests(TinyCheckpoint tiny)
{
    [Fact]
    public async Task Neovim_gets_the_completion_item()
    {
        var nvim = EnsureNeovim();
        var offset = EndToEndTests.Document.IndexOf("= \n", StringComparison.Ordinal) + 2;
        var expected = await EndToEndTests.ExpectedAsync(tiny, EndToEndTests.Document, offset, new CompletionSettings { MaxNewTokens = 24 });
        Assert.NotNull(expected);

        using var temp = new TempDir();
        var output = temp.File("nvim-result.json");
        var env = new Dictionary<string, string>
        {
            ["CODELM_SERVER_CMD"] = JsonSerializer.Serialize(new[] { "dotnet", CodeLmCli.DllPath, "serve", "--checkpoint", tiny.Dir }),
            ["CODELM_NVIM_OUT"] = output,
            ["CODELM_NVIM_FILE"] = temp.File("scale.py"),
            ["CODELM_LINES"] = JsonSerializer.Serialize(EndToEndTests.Document.TrimEnd('\n').Split('\n')),
            ["CODELM_LINE"] = "1",
            ["CODELM_CHAR"] = (offset - EndToEndTests.Document.IndexOf('\n') - 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CODELM_MAX_NEW_TOKENS"] = "24",
            ["HOME"] = temp.Path, ["XDG_STATE_HOME"] = temp.Path, ["XDG_CACHE_HOME"] = temp.Path, // keep nvim's LSP log in the temp dir
        };
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "nvim", "complete.lua");
        var r = Proc.Run(nvim, ["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", $"luafile {script}"], cwd: temp.Path, timeoutMs: 120_000, env: env);
        Assert.True(File.Exists(output), $"nvim wrote no result (exit {r.ExitCode}): {r.Stderr}{r.Stdout}");
        using var doc = JsonDocument.Parse(File.ReadAllText(output));
        var root = doc.RootElement;
        Assert.True(root.GetProperty("error").ValueKind == JsonValueKind.Null, "nvim reported: " + root.GetProperty("error"));
        Assert.True(root.GetProperty("inline").GetBoolean());
        var items = root.GetProperty("result").GetProperty("items");
        Assert.Equal(1, items.GetArrayLength());
        Assert.Equal(expected.InsertText, items[0].GetProperty("textEdit").GetProperty("newText").GetString());
    }

    /// <summary>nvim on PATH, installing Debian's package first when it is missing (needs root, as CI has).</summary>
    private static string EnsureNeovim()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (File.Exists(Path.Combine(dir, "nvim"))) return Path.Combine(dir, "nvim");
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var update = Proc.Run("apt-get", ["update", "-qq"], env: env);
        var install = Proc.Run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "neovim"], env: env);
        Assert.True(install.ExitCode == 0, $"neovim is missing and could not be installed (run as root, or apt-get install neovim): {update.Stderr}{install.Stderr}");
        return "/usr/bin/nvim";
    }
}
