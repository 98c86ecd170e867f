namespace CodeLm.DataPipeline.Dedup;

/// <summary>Disjoint sets over 0..n-1 where the root of a set is always its smallest member (a deterministic keeper).</summary>
public sealed class UnionFind(int count)
{
    private readonly int[] _parent = Enumerable.Range(0, count).ToArray();

    public int Find(int x)
    {
        while (_parent[x] != x)
        {
            _parent[x] = _parent[_parent[x]];
            x = _parent[x];
        }
        return x;
    }

    /// <summary>Joins the sets of a and b; returns false when they were already one set.</summary>
    public bool Union(int a, int b)
    {
        int ra = Find(a), rb = Find(b);
        if (ra == rb) return false;
        if (ra < rb) _parent[rb] = ra; else _parent[ra] = rb;
        return true;
    }
}
