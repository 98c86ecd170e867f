using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeLm.Model.Distributed;

/// <summary>
/// Tensors flattened into buckets of about 25 MB for the collectives, as DDP and Horovod bucket them: one call per
/// bucket rather than per tensor (a small model has ~50 tensors), without one copy of the whole model at once.
/// </summary>
internal sealed class GradientBuckets
{
    public const long BucketBytes = 25L << 20;

    private readonly List<Parameter[]> _buckets = [];

    public GradientBuckets(IEnumerable<Parameter> parameters)
    {
        var current = new List<Parameter>();
        long bytes = 0;
        foreach (var p in parameters)
        {
            long size = p.numel() * sizeof(float);
            if (current.Count > 0 && bytes + size > BucketBytes) { _buckets.Add([.. current]); current.Clear(); bytes = 0; }
            current.Add(p);
            bytes += size;
        }
        if (current.Count > 0) _buckets.Add([.. current]);
    }

    public int Count => _buckets.Count;

    /// <summary>
    /// Averages every parameter's gradient over the ranks, in place. <paramref name="loss"/> rides along in the last
    /// bucket, so the mean loss every rank logs and checks for NaN costs no extra round trip.
    /// </summary>
    public double AverageGradients(ICollective group, double loss)
    {
        double meanLoss = loss;
        for (int i = 0; i < _buckets.Count; i++)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var parts = _buckets[i].Select(p => p.grad!.flatten().to(ScalarType.Float32)).ToList();
            bool last = i == _buckets.Count - 1;
            if (last) parts.Add(tensor(new[] { (float)loss }, device: parts[0].device));
            var flat = cat(parts);
            group.AllReduceSum(flat);
            flat.div_(group.WorldSize);
            Unflatten(flat, _buckets[i], p => p.grad!);
            if (last) meanLoss = flat[flat.numel() - 1].item<float>();
        }
        return meanLoss;
    }

    /// <summary>Rank <paramref name="root"/>'s parameter values on every rank (the initial weights).</summary>
    public void BroadcastValues(ICollective group, int root)
    {
        foreach (var bucket in _buckets)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var flat = cat(bucket.Select(p => p.detach().flatten().to(ScalarType.Float32)).ToList());
            group.Broadcast(flat, root);
            Unflatten(flat, bucket, p => p);
        }
    }

    private static void Unflatten(Tensor flat, Parameter[] bucket, Func<Parameter, Tensor> target)
    {
        long offset = 0;
        foreach (var p in bucket)
        {
            var t = target(p);
            long n = t.numel();
            t.copy_(flat.narrow(0, offset, n).view(t.shape));
            offset += n;
        }
    }
}
