using CodeLm.Server.Stats;
using CodeLm.Server.Tests.Support;
using CodeLm.Tests;

namespace CodeLm.Server.Tests;

/// <summary>The editor's completion events over real pipes into the local log, and the figures `codelm stats` prints from it.</summary>
public sealed class AcceptanceLogTests
{
    [Fact]
    public async Task Events_are_appended_with_the_model_and_malformed_or_switched_off_ones_are_not()
    {
        using var dir = new TempDir();
        var log = new AcceptanceLog(Path.Combine(dir.Path, "sub", AcceptanceLog.FileName));
        await using var s = new InProcessServer(new ScriptedEngine(), events: log, model: "/models/tiny");
        await s.Client.StartAsync();
        await s.Client.NotifyAsync("codelm/event", new { kind = "shown", languageId = "python", latencyMs = 120.5 });
        await s.Client.NotifyAsync("codelm/event", new { kind = "partial", languageId = "python", chars = 5 });
        await s.Client.NotifyAsync("codelm/event", new { kind = "accepted", languageId = "python", chars = 12 });
        await s.Client.NotifyAsync("codelm/event", new { kind = "exploded", languageId = "python" });
        await s.Client.NotifyAsync("codelm/event", new { kind = "shown", languageId = "python", latencyMs = -3 });
        await s.Client.NotifyAsync("codelm/event", new { kind = 7 });
        await s.Client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { acceptanceLog = false } } });
        await s.Client.NotifyAsync("codelm/event", new { kind = "dismissed", languageId = "python" });
        await s.Client.RequestAsync("shutdown", null); // notifications are handled in order: every one above is done

        var (events, skipped) = AcceptanceLog.Read(log.Path);
        Assert.Equal(0, skipped);
        Assert.Equal([AcceptanceKind.Shown, AcceptanceKind.Partial, AcceptanceKind.Accepted], events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Equal(("/models/tiny", "python"), (e.Model, e.Language)));
        Assert.Equal(120.5, events[0].LatencyMs);
        Assert.Equal([null, 5, 12], events.Select(e => e.Chars));
        Assert.Equal(3, s.LogText.ToString().Split('\n').Count(l => l.Contains("codelm/event", StringComparison.Ordinal)));
    }

    [Fact]
    public void Stats_by_model_and_language_skip_a_cut_last_line()
    {
        using var dir = new TempDir();
        var log = new AcceptanceLog(Path.Combine(dir.Path, AcceptanceLog.FileName));
        var t = DateTimeOffset.UnixEpoch;
        foreach (var ms in new[] { 100.0, 200, 300, 400, 1000 }) log.Append(new AcceptanceEvent(t, AcceptanceKind.Shown, "a", "python", ms));
        log.Append(new AcceptanceEvent(t, AcceptanceKind.Accepted, "a", "python", Chars: 10));
        log.Append(new AcceptanceEvent(t, AcceptanceKind.Partial, "a", "python", Chars: 4));
        log.Append(new AcceptanceEvent(t, AcceptanceKind.Dismissed, "a", "python"));
        log.Append(new AcceptanceEvent(t, AcceptanceKind.Superseded, "a", "python"));
        log.Append(new AcceptanceEvent(t, AcceptanceKind.Shown, "a", "go", 50));
        log.Append(new AcceptanceEvent(t, AcceptanceKind.Shown, "b", "python", 70));
        File.AppendAllText(log.Path, "{\"time\":\"2026-01-01T00:00:00Z\",\"kind\":\"Sho"); // a crash mid-line

        var (events, skipped) = AcceptanceLog.Read(log.Path);
        Assert.Equal(1, skipped);
        var rows = AcceptanceStats.Summarize(events);
        Assert.Equal(["a go", "a python", "a (all)", "b python"], rows.Select(r => $"{r.Model} {r.Language}"));
        var py = rows[1];
        Assert.Equal((5, 1, 1, 1, 1, 14L), (py.Shown, py.Accepted, py.Partial, py.Dismissed, py.Superseded, py.CharsAccepted));
        Assert.Equal(0.4, py.AcceptanceRate);
        Assert.Equal((300.0, 1000.0), (py.LatencyP50Ms!.Value, py.LatencyP95Ms!.Value));
        Assert.Equal(6, rows[2].Shown);
        Assert.Null(new AcceptanceRow("m", "x", 0, 0, 0, 0, 0, null, null, 0).AcceptanceRate);
    }
}
