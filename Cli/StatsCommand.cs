using System.CommandLine;
using System.Globalization;
using CodeLm.Server.Stats;

namespace CodeLm.Cli;

/// <summary>`codelm stats`: how completions fared in the editor, from the local acceptance log `codelm serve` keeps.</summary>
public static class StatsCommand
{
    public static Command Create()
    {
        var log = new Option<string>("--log") { Description = "The acceptance log to read.", DefaultValueFactory = _ => AcceptanceLog.DefaultPath };
        var days = new Option<double?>("--days") { Description = "Only the events of the last N days (default: all)." };
        var cmd = new Command("stats",
            "Acceptance rate, latency p50/p95 and characters accepted, by model and language, from the editor's completion " +
            "events (kept on this machine only; the extension's codelm.acceptanceLog setting turns them off). Compare two " +
            "models on your own work by serving each for a while.")
        {
            log, days,
        };
        cmd.SetAction(parse =>
        {
            var path = parse.GetValue(log)!;
            if (!File.Exists(path)) throw new UserFacingException($"no acceptance log at {path} yet: serve a model to the editor (codelm serve, the VS Code extension) and use completions first");
            var (events, skipped) = AcceptanceLog.Read(path);
            if (parse.GetValue(days) is { } d)
            {
                if (d <= 0) throw new UserFacingException($"--days must be positive, got {d}");
                events = events.Where(e => e.Time >= DateTimeOffset.UtcNow.AddDays(-d)).ToList();
            }
            Print(path, AcceptanceStats.Summarize(events), events.Count, skipped);
            return 0;
        });
        return cmd;
    }

    private static void Print(string path, List<AcceptanceRow> rows, int events, int skipped)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"# {events} completion events from {path}" + (skipped > 0 ? $" ({skipped} unreadable lines skipped)" : ""));
        if (rows.Count == 0) { Console.WriteLine("(no events in that period)"); return; }
        Console.WriteLine("| model | language | shown | accepted | partial | dismissed | superseded | acceptance | latency p50 ms | p95 ms | chars accepted |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            Console.WriteLine(string.Create(c, $"| {r.Model} | {r.Language} | {r.Shown} | {r.Accepted} | {r.Partial} | {r.Dismissed} | {r.Superseded} | " +
                $"{(r.AcceptanceRate is { } a ? $"{a:P1}" : "–")} | {Ms(r.LatencyP50Ms)} | {Ms(r.LatencyP95Ms)} | {r.CharsAccepted} |"));
    }

    private static string Ms(double? v) => v is { } x ? x.ToString("F0", CultureInfo.InvariantCulture) : "–";
}
