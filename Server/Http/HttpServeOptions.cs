using System.Globalization;
using System.Net;
using CodeLm.Common;

namespace CodeLm.Server.Http;

/// <summary>
/// What `codelm serve --http` was asked for. <paramref name="Listen"/>: HOST:PORT (HOST defaults to loopback, so the
/// endpoint is private to the machine until someone names another address; PORT 0 takes a free one).
/// </summary>
public sealed record HttpServeOptions(string Listen = "127.0.0.1:8080")
{
    /// <summary>The key clients must send as <c>Authorization: Bearer KEY</c>; none: the endpoint is open.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The model's name in <c>/v1/models</c> and in requests' <c>model</c> field.</summary>
    public string ModelName { get; init; } = "codelm";

    /// <summary>Requests waiting for the model at most; more get 429 with Retry-After.</summary>
    public int QueueLimit { get; init; } = 32;

    /// <summary>Most samples per request (<c>n</c>); they decode as one batch.</summary>
    public int MaxN { get; init; } = 8;

    /// <summary>
    /// Most waiting requests (of one sample each) decoded together as one batch; 1 decodes one request at a time; 0
    /// lets the model's engine choose for its device (1 on the CPU, where batching measured slower; 8 on a GPU).
    /// </summary>
    public int MaxBatch { get; init; }

    /// <summary>Largest request body (413 past it): far more than any model's context holds.</summary>
    public long MaxRequestBytes { get; init; } = 1 << 20;

    /// <summary>A client that has not sent its headers by then is disconnected (slow-loris).</summary>
    public TimeSpan HeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A body slower than this, after <see cref="BodyGracePeriod"/>, ends the request with 408 (slow-loris).</summary>
    public double MinBodyBytesPerSecond { get; init; } = 240;

    public TimeSpan BodyGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The order of the FIM layout a <c>suffix</c> is laid out in: the model's own, as the language server uses it.</summary>
    public FimFormat Fim { get; init; } = FimFormat.Spm;

    /// <summary>Checks the settings; throws <see cref="OptionException"/> naming the one that cannot be used.</summary>
    public HttpServeOptions Validate()
    {
        _ = Endpoint();
        if (QueueLimit < 1) throw new OptionException(nameof(QueueLimit), $"must be at least 1, got {QueueLimit}");
        if (MaxN is < 1 or > 64) throw new OptionException(nameof(MaxN), $"must be in [1, 64], got {MaxN}");
        if (MaxBatch is < 0 or > 64) throw new OptionException(nameof(MaxBatch), $"must be in [0, 64], got {MaxBatch}");
        if (BodyGracePeriod <= TimeSpan.FromSeconds(1)) throw new OptionException(nameof(BodyGracePeriod), "must be over 1 second (Kestrel's rule)");
        if (ApiKey is { Length: 0 }) throw new OptionException(nameof(ApiKey), "is empty");
        if (string.IsNullOrWhiteSpace(ModelName)) throw new OptionException(nameof(ModelName), "must not be empty");
        return this;
    }

    /// <summary>
    /// The address to bind: "PORT" or ":PORT" is loopback; "localhost" is loopback; "0.0.0.0" or "*" every interface;
    /// else an IP address (IPv6 in brackets: "[::1]:8080").
    /// </summary>
    public IPEndPoint Endpoint()
    {
        var text = Listen.Trim();
        var colon = text.LastIndexOf(':');
        var (host, portText) = colon < 0 ? ("", text) : (text[..colon], text[(colon + 1)..]);
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new OptionException(nameof(Listen), $"'{Listen}' is not HOST:PORT (a port from 0 to 65535)");
        host = host.Trim('[', ']');
        IPAddress? address = host switch
        {
            "" or "localhost" => IPAddress.Loopback,
            "*" => IPAddress.Any,
            _ => IPAddress.TryParse(host, out var ip) ? ip : null,
        };
        return address is null
            ? throw new OptionException(nameof(Listen), $"'{host}' is not an IP address; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of the machine's addresses")
            : new IPEndPoint(address, port);
    }
}
