using CodeLm.Model.Generation;

namespace CodeLm.Model.Tests.Generation;

public class TorchThreadTests
{
    [Fact]
    public async Task Runs_every_call_on_its_one_thread_and_rethrows_what_the_work_throws()
    {
        using var torch = new TorchThread("test-torch");
        var ids = new System.Collections.Concurrent.ConcurrentBag<int>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => torch.Run(() => ids.Add(Environment.CurrentManagedThreadId)))));
        Assert.Equal(8, ids.Count);
        Assert.Single(ids.Distinct());
        Assert.NotEqual(Environment.CurrentManagedThreadId, ids.First());

        Assert.Throws<OperationCanceledException>(() => torch.Run<int>(() => throw new OperationCanceledException()));
        var e = Assert.Throws<InvalidDataException>(() => torch.Run<int>(() => throw new InvalidDataException("bad shard")));
        Assert.Equal("bad shard", e.Message);
        Assert.Equal(42, torch.Run(() => torch.Run(() => 42))); // a nested call runs inline instead of waiting on itself

        torch.Dispose();
        Assert.Throws<InvalidOperationException>(() => torch.Run(() => 1)); // refused, not left waiting forever
        torch.Dispose(); // twice is fine
    }
}
