using CodeLm.Common.Completion;

namespace CodeLm.Server.Completion;

/// <summary>A small thread-safe LRU map from prompt context to the model's raw output.</summary>
public sealed class CompletionCache(int capacity = 512)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, string Value)>> map = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, string Value)> order = new();
    private readonly Lock gate = new();

    public int Count { get { lock (gate) return map.Count; } }

    public bool TryGet(string key, out string value)
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
        value = "";
        return false;
    }

    public void Add(string key, string value)
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

    /// <summary>The key: everything the raw output depends on.</summary>
    public static string KeyOf(CompletionPrompt prompt, EngineOptions options, CompletionMode mode) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{mode}|{options.MaxNewTokens}|{options.Temperature}|{options.Fim}|{prompt.Prefix.Length}|{prompt.Prefix}\u0000{prompt.Suffix}");
}
