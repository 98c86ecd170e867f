using System.Text.Json.Serialization;

namespace CodeLm.Server.Http;

/// <summary>
/// A request the endpoint refuses, answered as OpenAI answers it: <c>{"error": {"message", "type", "param", "code"}}</c>
/// with <see cref="Status"/>. Clients written for OpenAI (the SDKs, Continue, Tabby) show the message as it is.
/// </summary>
public sealed class OpenAiError(int status, string message, string type = OpenAiError.InvalidRequest, string? param = null, string? code = null)
    : Exception(message)
{
    public const string InvalidRequest = "invalid_request_error";

    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    /// <summary>The response body.</summary>
    public ErrorBody Body => new(new ErrorDetail(Message, Type, Param, Code));

    public static OpenAiError BadRequest(string message, string? param = null, string? code = null) => new(400, message, InvalidRequest, param, code);
}

/// <summary>The wire shape; <c>param</c> and <c>code</c> are written as null when absent, as OpenAI does.</summary>
public sealed record ErrorBody([property: JsonPropertyName("error")] ErrorDetail Error);

public sealed record ErrorDetail(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
