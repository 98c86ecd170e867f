using System.Text.Json;

namespace CodeLm.Server.Http;

/// <summary>
/// A <c>POST /v1/completions</c> body, read field by field so every refusal names the field (<see cref="OpenAiError.Param"/>)
/// as OpenAI does. Fields OpenAI defines that change nothing here (<c>user</c>, the penalties, <c>logprobs: null</c>) are
/// accepted, because clients send them by default; unknown fields and values CodeLm cannot honour are refused rather than
/// silently ignored.
/// </summary>
public sealed record CompletionRequest(string? Model, string Prompt, string? Suffix, int MaxTokens, float Temperature, float TopP,
    IReadOnlyList<string> Stop, int N, bool Stream, bool IncludeUsage, long? Seed)
{
    /// <summary>OpenAI's default when a request names no <c>max_tokens</c>.</summary>
    public const int DefaultMaxTokens = 16;

    /// <summary>Most stop sequences (OpenAI allows 4; Continue sends more, vLLM and llama.cpp take them).</summary>
    public const int MaxStops = 16;

    /// <summary>The request in <paramref name="body"/>, or an <see cref="OpenAiError"/> (400) naming what is wrong.</summary>
    public static CompletionRequest Parse(JsonElement body, int maxN)
    {
        if (body.ValueKind != JsonValueKind.Object) throw OpenAiError.BadRequest("The request body must be a JSON object.");
        string? model = null, prompt = null, suffix = null;
        int maxTokens = DefaultMaxTokens, n = 1;
        float temperature = 1, topP = 1;
        bool stream = false, includeUsage = false;
        long? seed = null;
        int? bestOf = null;
        IReadOnlyList<string> stop = [];
        foreach (var p in body.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "model": model = NullOr(v, p.Name, String); break;
                case "prompt": prompt = PromptOf(v); break;
                case "suffix": suffix = NullOr(v, p.Name, String); break;
                case "max_tokens": maxTokens = NullOr<int?>(v, p.Name, Int) ?? DefaultMaxTokens; break;
                case "temperature": temperature = NullOr<float?>(v, p.Name, Float) ?? 1; break;
                case "top_p": topP = NullOr<float?>(v, p.Name, Float) ?? 1; break;
                case "n": n = NullOr<int?>(v, p.Name, Int) ?? 1; break;
                case "stream": stream = NullOr<bool?>(v, p.Name, (e, name) => Bool(e, name)) ?? false; break;
                case "stop": stop = StopOf(v); break;
                case "seed": seed = NullOr<long?>(v, p.Name, (e, name) => e.TryGetInt64(out var x) ? x : throw Type(name, "an integer")); break;
                case "stream_options":
                    if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("include_usage", out var u)) includeUsage = Bool(u, "stream_options.include_usage");
                    else if (v.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null)) throw Type(p.Name, "an object");
                    break;
                case "echo":
                    if (NullOr<bool?>(v, p.Name, (e, name) => Bool(e, name)) == true) throw OpenAiError.BadRequest("echo=true is not supported: the response never repeats the prompt.", p.Name);
                    break;
                case "logprobs":
                    if (v.ValueKind != JsonValueKind.Null) throw OpenAiError.BadRequest("logprobs is not supported.", p.Name);
                    break;
                case "best_of": bestOf = NullOr<int?>(v, p.Name, Int); break;
                case "logit_bias":
                    if (v.ValueKind == JsonValueKind.Object && v.EnumerateObject().Any()) throw OpenAiError.BadRequest("logit_bias is not supported.", p.Name);
                    break;
                case "presence_penalty" or "frequency_penalty":
                    // Accepted and not applied: Tabby and Continue send them with every request (Tabby's default is
                    // not 0), and refusing would turn those clients away for a nudge the short completions barely need.
                    if (NullOr<float?>(v, p.Name, Float) is { } penalty && !(penalty is >= -2 and <= 2)) throw OpenAiError.BadRequest($"{p.Name} must be in [-2, 2], got {penalty}.", p.Name, "invalid_value");
                    break;
                case "user": NullOr(v, p.Name, String); break;
                default: throw OpenAiError.BadRequest($"Unrecognized request argument supplied: {p.Name}", p.Name, "unknown_parameter");
            }
        }
        if (prompt is null) throw OpenAiError.BadRequest("you must provide a prompt", "prompt", "missing_required_parameter");
        if (maxTokens < 1) throw OpenAiError.BadRequest($"max_tokens must be at least 1, got {maxTokens}.", "max_tokens", "invalid_value");
        if (!(temperature is >= 0 and <= 2)) throw OpenAiError.BadRequest($"temperature must be in [0, 2], got {temperature}.", "temperature", "invalid_value");
        if (!(topP is > 0 and <= 1)) throw OpenAiError.BadRequest($"top_p must be in (0, 1], got {topP}.", "top_p", "invalid_value");
        if (n < 1 || n > maxN) throw OpenAiError.BadRequest($"n must be in [1, {maxN}], got {n}.", "n", "invalid_value");
        if (bestOf is { } b && b != n) throw OpenAiError.BadRequest("best_of is not supported (only equal to n); use n.", "best_of");
        return new CompletionRequest(model, prompt, suffix, maxTokens, temperature, topP, stop, n, stream, includeUsage, seed);
    }

    /// <summary>A string, or an array of exactly one string (what SDKs send for a single prompt); token arrays are refused.</summary>
    private static string PromptOf(JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 1 && v[0].ValueKind == JsonValueKind.String) return v[0].GetString()!;
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 1)
            throw OpenAiError.BadRequest("Only one prompt per request is served; send several requests (they are queued).", "prompt");
        throw Type("prompt", "a string");
    }

    private static IReadOnlyList<string> StopOf(JsonElement v)
    {
        string[] stops = v.ValueKind switch
        {
            JsonValueKind.Null => [],
            JsonValueKind.String => [v.GetString()!],
            JsonValueKind.Array => v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Type("stop", "a string or an array of strings")).ToArray(),
            _ => throw Type("stop", "a string or an array of strings"),
        };
        if (stops.Length > MaxStops) throw OpenAiError.BadRequest($"At most {MaxStops} stop sequences, got {stops.Length}.", "stop", "invalid_value");
        return stops.Where(s => s.Length > 0).Distinct().ToArray();
    }

    private static T? NullOr<T>(JsonElement v, string name, Func<JsonElement, string, T> read) => v.ValueKind == JsonValueKind.Null ? default : read(v, name);

    private static string String(JsonElement v, string name) => v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Type(name, "a string");

    private static int? Int(JsonElement v, string name)
    {
        if (v.ValueKind != JsonValueKind.Number) throw Type(name, "an integer");
        if (v.TryGetInt32(out var i)) return i;
        // Past int range ("max_tokens": 1e12) is still a number: say it is too large rather than of the wrong type.
        if (v.TryGetDouble(out var d) && d == Math.Floor(d)) return d > 0 ? int.MaxValue : int.MinValue;
        throw Type(name, "an integer");
    }

    private static float? Float(JsonElement v, string name) => v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? (float)d : throw Type(name, "a number");

    private static bool Bool(JsonElement v, string name) => v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Type(name, "a boolean");

    private static OpenAiError Type(string name, string what) => OpenAiError.BadRequest($"'{name}' must be {what}.", name, "invalid_type");
}
