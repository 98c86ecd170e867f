using System.Text;

namespace CodeLm.Eval.Execution;

/// <summary>Completes <see cref="Seen"/> when a marker line appears in a byte stream fed in arbitrary chunks.</summary>
internal sealed class MarkerWatch(string marker)
{
    private readonly byte[] _marker = Encoding.ASCII.GetBytes(marker);
    private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _carry = [];

    public Task Seen => _seen.Task;

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        if (_seen.Task.IsCompleted) return;
        var joined = new byte[_carry.Length + chunk.Length];
        _carry.CopyTo(joined, 0);
        chunk.CopyTo(joined.AsSpan(_carry.Length));
        if (joined.AsSpan().IndexOf(_marker) >= 0) { _seen.TrySetResult(); return; }
        var keep = Math.Min(joined.Length, _marker.Length - 1);
        _carry = joined[^keep..];
    }
}
