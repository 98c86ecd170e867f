using System.Security.Cryptography;
using System.Text.Json;

namespace CodeLm.Model.Lora;

/// <summary>
/// The model an adapter was trained on: where it was, and a fingerprint of it. An adapter applied to another base
/// computes nonsense silently, so loading checks the fingerprint first. It covers config.json, every weights file's
/// safetensors header (names, types, shapes, offsets) and the first and last MiB of each file's data: a few MiB read,
/// not gigabytes, and any two different trained models differ there.
/// </summary>
public sealed record BaseModel(string Path, string Fingerprint, string? RelativePath = null)
{
    public const string File = "codelm_base.json";

    public static BaseModel Of(string dir)
    {
        var full = System.IO.Path.GetFullPath(dir);
        return new BaseModel(full, FingerprintOf(full));
    }

    public static string FingerprintOf(string dir)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.IO.File.ReadAllBytes(System.IO.Path.Combine(dir, Checkpoint.ConfigFile)));
        foreach (var weights in Directory.EnumerateFiles(dir, "*.safetensors").Order(StringComparer.Ordinal))
        {
            using var f = System.IO.File.OpenRead(weights);
            var lengthBytes = new byte[8];
            f.ReadExactly(lengthBytes);
            var headerLength = (long)BitConverter.ToUInt64(lengthBytes);
            if (headerLength > f.Length - 8) throw new InvalidDataException($"'{weights}' is not a safetensors file.");
            Append(sha, f, 0, 8 + headerLength);
            Append(sha, f, 8 + headerLength, Math.Min(1 << 20, f.Length - 8 - headerLength));
            Append(sha, f, Math.Max(8 + headerLength, f.Length - (1 << 20)), Math.Min(1 << 20, f.Length - 8 - headerLength));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Writes it beside an adapter, with the base's path relative to <paramref name="dir"/> too (see <see cref="Locate"/>).</summary>
    public void Save(string dir) => System.IO.File.WriteAllText(System.IO.Path.Combine(dir, File),
        JsonSerializer.Serialize(this with { RelativePath = System.IO.Path.GetRelativePath(System.IO.Path.GetFullPath(dir), Path) }, Json));

    /// <summary>
    /// Where the base is now: its recorded path, or, when that is gone, the same place relative to the adapter, so a work
    /// folder holding both can move or be copied to another machine. The fingerprint is checked either way.
    /// </summary>
    public string Locate(string adapterDir) =>
        !Directory.Exists(Path) && RelativePath is { } relative && Directory.Exists(System.IO.Path.Combine(adapterDir, relative))
            ? System.IO.Path.GetFullPath(System.IO.Path.Combine(adapterDir, relative))
            : Path;

    public static BaseModel Read(string dir)
    {
        var path = System.IO.Path.Combine(dir, File);
        try { return JsonSerializer.Deserialize<BaseModel>(System.IO.File.ReadAllText(path), Json) ?? throw new InvalidDataException($"'{path}' is empty."); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}"); }
    }

    /// <summary>Throws <see cref="AdapterBaseException"/> unless <paramref name="dir"/> is this base.</summary>
    public void Check(string adapterDir, string dir)
    {
        if (!Directory.Exists(dir)) throw new AdapterBaseException(adapterDir, dir, $"the base model '{dir}' it was trained on is not there");
        if (FingerprintOf(dir) != Fingerprint) throw new AdapterBaseException(adapterDir, dir, $"'{dir}' is not the base model it was trained on (fingerprint {Fingerprint[..12]})");
    }

    private static void Append(IncrementalHash sha, FileStream f, long offset, long count)
    {
        var buffer = new byte[count];
        f.Position = offset;
        f.ReadExactly(buffer);
        sha.AppendData(buffer);
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

/// <summary>An adapter whose base model is missing or is another model.</summary>
public sealed class AdapterBaseException(string adapter, string baseDir, string problem)
    : InvalidOperationException($"The adapter '{adapter}' cannot be applied: {problem}.")
{
    public string Adapter { get; } = adapter;
    public string BaseDir { get; } = baseDir;
}
