using System.Diagnostics;
using System.Threading.Channels;
using CodeLm.Model.Generation;

namespace CodeLm.Server.Http;

/// <summary>
/// The HTTP endpoint's requests in arrival order, decoded one request at a time by one worker: the generator holds one
/// KV cache and decodes one prompt per call (its n samples as one batch), so requests with different prompts cannot share
/// a step, and running them side by side would only split the same cores. At most <paramref name="limit"/> wait; past
/// that <see cref="TryEnqueue"/> refuses, so a burst costs a 429, not memory. A request whose client is gone is skipped
/// when its turn comes, or stopped after the current step when it is decoding.
/// </summary>
public sealed class GenerationQueue : IDisposable
{
    private readonly ITextGenerator generator;
    private readonly int limit;
    private readonly Channel<Job> jobs = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread worker;
    private int waiting, active;
    private long completed, cancelled, rejected, failed, tokens;
    private double averageMs = 200; // before the first request: a guess for Retry-After only

    public GenerationQueue(ITextGenerator generator, int limit)
    {
        if (limit < 1) throw new ArgumentOutOfRangeException(nameof(limit), limit, "the queue must hold at least one request");
        this.generator = generator;
        this.limit = limit;
        worker = new Thread(Work) { IsBackground = true, Name = "codelm-http-queue" };
        worker.Start();
    }

    /// <summary>A queued request: <see cref="Done"/> completes with its samples, or is cancelled when its client left.</summary>
    public sealed class Job(TextRequest request, TextCallback? onText, CancellationToken ct)
    {
        internal readonly TextRequest Request = request;
        internal readonly TextCallback? OnText = onText;
        internal readonly CancellationToken Ct = ct;
        internal readonly Stopwatch Clock = Stopwatch.StartNew();
        private readonly TaskCompletionSource<IReadOnlyList<Model.Generation.Completion>> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        internal TaskCompletionSource<IReadOnlyList<Model.Generation.Completion>> Source => done;
        public Task<IReadOnlyList<Model.Generation.Completion>> Done => done.Task;

        /// <summary>How long it waited for its turn, in milliseconds (0 until it started).</summary>
        public double QueueMs { get; internal set; }
    }

    public int Waiting => Volatile.Read(ref waiting);
    public int Active => Volatile.Read(ref active);
    public int Limit => limit;
    public long Completed => Interlocked.Read(ref completed);
    public long Cancelled => Interlocked.Read(ref cancelled);
    public long Rejected => Interlocked.Read(ref rejected);
    public long Failed => Interlocked.Read(ref failed);
    public long TokensGenerated => Interlocked.Read(ref tokens);

    /// <summary>Seconds a refused client should wait: about what the requests ahead of it take, 1 to 60.</summary>
    public int RetryAfterSeconds => (int)Math.Clamp(Math.Ceiling(Volatile.Read(ref averageMs) * (Waiting + 1) / 1000), 1, 60);

    /// <summary>The queued job, or null when <see cref="Limit"/> requests already wait.</summary>
    public Job? TryEnqueue(TextRequest request, TextCallback? onText, CancellationToken ct)
    {
        if (Interlocked.Increment(ref waiting) > limit)
        {
            Interlocked.Decrement(ref waiting);
            Interlocked.Increment(ref rejected);
            return null;
        }
        var job = new Job(request, onText, ct);
        if (!jobs.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref waiting);
            job.Source.TrySetCanceled();
        }
        return job;
    }

    private void Work()
    {
        while (jobs.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            while (jobs.Reader.TryRead(out var job))
            {
                Interlocked.Decrement(ref waiting);
                job.QueueMs = job.Clock.Elapsed.TotalMilliseconds;
                if (job.Ct.IsCancellationRequested) { Interlocked.Increment(ref cancelled); job.Source.TrySetCanceled(job.Ct); continue; }
                Run(job);
            }
    }

    private void Run(Job job)
    {
        Interlocked.Increment(ref active);
        var clock = Stopwatch.StartNew();
        try
        {
            var results = generator.Generate(job.Request, job.OnText, job.Ct);
            Interlocked.Add(ref tokens, results.Sum(r => (long)r.Tokens));
            if (job.Ct.IsCancellationRequested) { Interlocked.Increment(ref cancelled); job.Source.TrySetCanceled(job.Ct); }
            else
            {
                Interlocked.Increment(ref completed);
                Volatile.Write(ref averageMs, 0.8 * Volatile.Read(ref averageMs) + 0.2 * clock.Elapsed.TotalMilliseconds);
                job.Source.TrySetResult(results);
            }
        }
        catch (OperationCanceledException) { Interlocked.Increment(ref cancelled); job.Source.TrySetCanceled(job.Ct); }
        catch (Exception e) { Interlocked.Increment(ref failed); job.Source.TrySetException(e); }
        finally { Interlocked.Decrement(ref active); }
    }

    /// <summary>Stops taking requests; those still waiting are cancelled, the one decoding finishes its step first.</summary>
    public void Dispose()
    {
        if (!jobs.Writer.TryComplete()) return;
        worker.Join(TimeSpan.FromSeconds(30));
        while (jobs.Reader.TryRead(out var job)) job.Source.TrySetCanceled();
    }
}
