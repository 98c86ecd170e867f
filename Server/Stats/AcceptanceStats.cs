namespace CodeLm.Server.Stats;

/// <summary>
/// One row of `codelm stats`: a model and a language. The acceptance rate counts completions taken whole or in part per
/// completion shown; latency is over shown completions.
/// </summary>
public sealed record AcceptanceRow(string Model, string Language, int Shown, int Accepted, int Partial, int Dismissed, int Superseded,
    double? LatencyP50Ms, double? LatencyP95Ms, long CharsAccepted)
{
    public double? AcceptanceRate => Shown == 0 ? null : (double)(Accepted + Partial) / Shown;
}

public static class AcceptanceStats
{
    /// <summary>Rows by model, then language, plus an "all languages" row per model when it has more than one.</summary>
    public static List<AcceptanceRow> Summarize(IEnumerable<AcceptanceEvent> events)
    {
        var rows = new List<AcceptanceRow>();
        foreach (var model in events.GroupBy(e => e.Model).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var languages = model.GroupBy(e => e.Language).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
            rows.AddRange(languages.Select(g => Row(model.Key, g.Key, g)));
            if (languages.Count > 1) rows.Add(Row(model.Key, "(all)", model));
        }
        return rows;
    }

    private static AcceptanceRow Row(string model, string language, IEnumerable<AcceptanceEvent> events)
    {
        var list = events.ToList();
        int Count(AcceptanceKind k) => list.Count(e => e.Kind == k);
        var latencies = list.Where(e => e.Kind == AcceptanceKind.Shown && e.LatencyMs is >= 0).Select(e => e.LatencyMs!.Value).Order().ToArray();
        var chars = list.Where(e => e.Kind is AcceptanceKind.Accepted or AcceptanceKind.Partial).Sum(e => (long)(e.Chars ?? 0));
        return new AcceptanceRow(model, language, Count(AcceptanceKind.Shown), Count(AcceptanceKind.Accepted), Count(AcceptanceKind.Partial),
            Count(AcceptanceKind.Dismissed), Count(AcceptanceKind.Superseded), Percentile(latencies, 0.5), Percentile(latencies, 0.95), chars);
    }

    /// <summary>Nearest-rank percentile of sorted values; null when there are none.</summary>
    public static double? Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
