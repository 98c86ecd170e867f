using CodeLm.Server.Stats;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>`codelm stats` as a user runs it, on a log written the way `codelm serve` writes it.</summary>
public class StatsCommandTests
{
    [Fact]
    public void Prints_acceptance_latency_and_characters_by_model_and_language_and_filters_by_days()
    {
        using var dir = new TempDir();
        var log = new AcceptanceLog(Path.Combine(dir.Path, AcceptanceLog.FileName));
        var now = DateTimeOffset.UtcNow;
        log.Append(new AcceptanceEvent(now, AcceptanceKind.Shown, "/models/a", "python", 250));
        log.Append(new AcceptanceEvent(now, AcceptanceKind.Shown, "/models/a", "python", 750));
        log.Append(new AcceptanceEvent(now, AcceptanceKind.Accepted, "/models/a", "python", Chars: 30));
        log.Append(new AcceptanceEvent(now.AddDays(-30), AcceptanceKind.Shown, "/models/old", "go", 90));

        var all = CodeLmCli.Run("stats", "--log", log.Path);
        Assert.Equal(0, all.ExitCode);
        Assert.Contains("# 4 completion events from " + log.Path, all.Stdout);
        Assert.Contains("| /models/a | python | 2 | 1 | 0 | 0 | 0 | 50.0 % | 250 | 750 | 30 |", all.Stdout);
        Assert.Contains("| /models/old | go | 1 |", all.Stdout);

        var recent = CodeLmCli.Run("stats", "--log", log.Path, "--days", "7");
        Assert.Equal(0, recent.ExitCode);
        Assert.DoesNotContain("/models/old", recent.Stdout);
    }

    [Fact]
    public void A_missing_log_is_one_line_saying_how_one_comes_about()
    {
        using var dir = new TempDir();
        var r = CodeLmCli.Run("stats", "--log", Path.Combine(dir.Path, "none.jsonl"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"^codelm stats: error: no acceptance log at .*none\.jsonl yet: serve a model to the editor .*$", r.Stderr.Trim());
    }
}
