using System.Text.Json;

namespace CodeLm.Server.Transport;

/// <summary>What a frame's body is, decided before StreamJsonRpc sees it (its formatter throws on anything unexpected).</summary>
public readonly record struct ShapeVerdict(bool Valid, bool IsResponse, string? IdJson, int ErrorCode, string? ErrorMessage);

/// <summary>Checks that a body is a single JSON-RPC 2.0 request, notification or response.</summary>
public static class JsonRpcShape
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static ShapeVerdict Check(byte[] body)
    {
        // JsonDocument checks UTF-8 only when a string is read; StreamJsonRpc would then fail inside its read loop.
        if (!System.Text.Unicode.Utf8.IsValid(body)) return Reject(null, Protocol.ErrorCodes.ParseError, "Parse error: the body is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body, Options); }
        catch (JsonException e) { return Reject(null, Protocol.ErrorCodes.ParseError, "Parse error: " + FirstLine(e.Message)); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Reject(null, Protocol.ErrorCodes.InvalidRequest, root.ValueKind == JsonValueKind.Array
                    ? "Invalid Request: batches are not part of LSP" : "Invalid Request: a message must be a JSON object");

            string? id = null;
            if (root.TryGetProperty("id", out var idElement))
            {
                if (idElement.ValueKind == JsonValueKind.String || (idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out _)))
                    id = idElement.GetRawText();
                else
                    return Reject(null, Protocol.ErrorCodes.InvalidRequest, "Invalid Request: id must be an integer or a string");
            }
            if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0")
                return Reject(id, Protocol.ErrorCodes.InvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\"");

            if (root.TryGetProperty("method", out var method))
            {
                if (method.ValueKind != JsonValueKind.String || method.GetString() is not { Length: > 0 })
                    return Reject(id, Protocol.ErrorCodes.InvalidRequest, "Invalid Request: \"method\" must be a non-empty string");
                if (root.TryGetProperty("params", out var p) && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
                    return Reject(id, Protocol.ErrorCodes.InvalidRequest, "Invalid Request: \"params\" must be an object or an array");
                return new ShapeVerdict(true, false, id, 0, null);
            }

            var hasResult = root.TryGetProperty("result", out _);
            var hasError = root.TryGetProperty("error", out var error);
            if (id != null && hasResult != hasError && (!hasError || error.ValueKind == JsonValueKind.Object))
                return new ShapeVerdict(true, true, id, 0, null);
            return Reject(id, Protocol.ErrorCodes.InvalidRequest, "Invalid Request: neither a request, a notification nor a response");
        }
    }

    private static ShapeVerdict Reject(string? id, int code, string message) => new(false, false, id, code, message);

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
