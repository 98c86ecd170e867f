using static TorchSharp.torch;

namespace CodeLm.Model.Generation;

/// <summary>
/// The generator's one-row KV cache over the whole context, kept between calls with the token ids it holds. With reuse
/// on, a prompt that starts like the previous one (plus what was generated after it) prefills only the rest: while the
/// user types in an SPM prompt, only the new characters.
/// </summary>
internal sealed class PromptCache(GptConfig config, Device device, ScalarType dtype) : IDisposable
{
    private KvCache? kv;
    private readonly List<int> tokens = [];

    public KvCache Kv => kv ??= new KvCache(config, 1, config.ContextLength, device, dtype);

    /// <summary>
    /// Keeps the longest start the cache shares with <paramref name="ids"/> (all of it is dropped without
    /// <paramref name="reuse"/>) and returns its length; at least one token is left to feed, for its logits.
    /// </summary>
    public int Keep(IReadOnlyList<int> ids, bool reuse)
    {
        var cache = Kv;
        if (tokens.Count != cache.Length) tokens.Clear(); // an earlier forward failed midway
        var common = 0;
        if (reuse)
            while (common < tokens.Count && common < ids.Count - 1 && tokens[common] == ids[common]) common++;
        cache.Truncate(common);
        tokens.RemoveRange(common, tokens.Count - common);
        return common;
    }

    /// <summary>Records that <paramref name="fed"/> went through the model after what the cache held.</summary>
    public void Fed(ReadOnlySpan<int> fed) => tokens.AddRange(fed);

    public void Dispose()
    {
        kv?.Dispose();
        kv = null;
        tokens.Clear();
    }
}
