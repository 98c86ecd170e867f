using System.Text.Json.Serialization;

namespace CodeLm.Server.Stats;

/// <summary>
/// What became of a completion in the editor. Shown: it reached the editor (with the request's latency). Accepted: taken
/// whole. Partial: a word or a line of it taken. Dismissed: the user went on without it. Superseded: a newer keystroke
/// cancelled the request before it was answered.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<AcceptanceKind>))]
public enum AcceptanceKind { Shown, Accepted, Partial, Dismissed, Superseded }

/// <summary>One line of the acceptance log: when, what, for which model and language, how fast, how many characters.</summary>
public sealed record AcceptanceEvent(DateTimeOffset Time, AcceptanceKind Kind, string Model, string Language, double? LatencyMs = null, int? Chars = null);
