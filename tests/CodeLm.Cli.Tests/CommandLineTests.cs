using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

public class CommandLineTests
{
    [Fact]
    public void Help_lists_every_stage_with_a_description()
    {
        var r = CodeLmCli.Run("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var stage in new[] { "data", "tokenizer", "train", "sample", "eval", "serve", "export", "quickstart", "doctor", "stats", "translate" })
            Assert.Matches($@"(?m)^\s+{stage}\s+\S.+$", r.Stdout);
    }

    [Fact]
    public void Unknown_subcommand_fails_with_a_message_and_nonzero_exit()
    {
        var r = CodeLmCli.Run("frobnicate");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("frobnicate", r.Stdout + r.Stderr);
    }
}
