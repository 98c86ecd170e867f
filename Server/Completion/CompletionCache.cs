using CodeLm.Common.Completion;
using CodeLm.Model.Generation;

namespace CodeLm.Server.Completion;

/// <summary>A small thread-safe LRU map from prompt context to the model's raw output.</summary>
public sealed class CompletionCache<T>(int capacity = 512)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, T Value)>> map = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, T Value)> order = new();
    private readonly Lock gate = new();

    public int Count { get { lock (gate) return map.Count; } }

    public bool TryGet(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out T value)
    {
        lock (gate)
        {
            if (map.TryGetValue(key, out var node))
            {
                order.Remove(node);
                order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    public void Add(string key, T value)
    {
        lock (gate)
        {
            if (map.TryGetValue(key, out var old)) order.Remove(old);
            map[key] = order.AddFirst((key, value));
            while (map.Count > capacity)
            {
                map.Remove(order.Last!.Value.Key);
                order.RemoveLast();
            }
        }
    }

    public void Clear() { lock (gate) { map.Clear(); order.Clear(); } }
}

public static class CompletionCacheKey
{
    /// <summary>The key: everything the raw output depends on.</summary>
    public static string Of(CompletionPrompt prompt, EngineOptions options, CompletionMode mode) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{mode}|{options.MaxNewTokens}|{options.Temperature}|{options.TopP}|{options.Fim}|{prompt.Path}|{string.Concat(prompt.Context.Select(c => $"{c.Path}\u0001{c.Text}\u0002"))}|{prompt.Prefix.Length}|{prompt.Prefix}\u0000{prompt.Suffix}");
}
