using System.Collections.Concurrent;

namespace CodeLm.Model.Generation;

/// <summary>
/// Runs work on one long-lived thread. libtorch's OpenMP keeps its thread team and thread count per calling thread, so
/// a server that runs each request on whichever thread-pool thread is free pays for that on every request (measured on
/// `small`: 162–177 ms per completion from a fresh thread each time against 140–149 ms from the same thread).
/// </summary>
public sealed class TorchThread : IDisposable
{
    private readonly BlockingCollection<Action> work = new();
    private readonly Thread thread;

    public TorchThread(string name)
    {
        thread = new Thread(() => { foreach (var item in work.GetConsumingEnumerable()) item(); }) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Runs <paramref name="f"/> on the thread and waits for it; its exception is rethrown as is.</summary>
    public T Run<T>(Func<T> f)
    {
        if (Thread.CurrentThread == thread) return f();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try { done.SetResult(f()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    public void Run(Action a) => Run(() => { a(); return 0; });

    public void Dispose()
    {
        if (work.IsAddingCompleted) return;
        work.CompleteAdding();
        if (Thread.CurrentThread != thread) thread.Join();
    }
}
