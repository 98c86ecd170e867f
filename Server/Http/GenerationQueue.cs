using System.Diagnostics;
using System.Threading.Channels;
using CodeLm.Model.Generation;

namespace CodeLm.Server.Http;

/// <summary>
/// The HTTP endpoint's requests in arrival order, decoded by one worker (one model, one set of cores: running requests
/// side by side would only split them). When the worker is free it takes the next request and, where the generator can
/// batch different prompts, up to <paramref name="maxBatch"/> − 1 more of one sample each that are waiting behind it and
/// fit the context together: they decode as one batch, one model step serving every row. Requests that arrive while a
/// batch decodes join it between two steps, as rows leave or while it has room (continuous batching), so nobody waits
/// for the longest answer of a batch. A request's n samples always decode as one batch. At most
/// <paramref name="limit"/> wait; past that <see cref="TryEnqueue"/> refuses, so a burst costs a 429, not memory. A
/// request whose client is gone is skipped when its turn comes, or leaves its batch after the current step.
/// </summary>
public sealed class GenerationQueue : IDisposable
{
    private readonly ITextGenerator generator;
    private readonly int limit, maxBatch;
    private readonly Channel<Job> jobs = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread worker;
    private int waiting, active, rows; // rows: requests in the batch decoding now
    private long completed, cancelled, rejected, failed, tokens;
    private double averageMs = 200; // before the first request: a guess for Retry-After only

    /// <param name="maxBatch">Most requests per batch; 0: what the generator prefers on its device.</param>
    public GenerationQueue(ITextGenerator generator, int limit, int maxBatch = 0)
    {
        if (limit < 1) throw new ArgumentOutOfRangeException(nameof(limit), limit, "the queue must hold at least one request");
        this.generator = generator;
        this.limit = limit;
        this.maxBatch = !generator.CanBatch ? 1 : maxBatch > 0 ? maxBatch : generator.PreferredBatch;
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

    /// <summary>Most requests decoded together (1: one at a time).</summary>
    public int MaxBatch => maxBatch;
    public long Completed => Interlocked.Read(ref completed);
    public long Cancelled => Interlocked.Read(ref cancelled);
    public long Rejected => Interlocked.Read(ref rejected);
    public long Failed => Interlocked.Read(ref failed);
    public long TokensGenerated => Interlocked.Read(ref tokens);
    private long batches, batchedRequests, joined;

    /// <summary>Batches that held more than one request (from the start, or once one joined), and the requests in them.</summary>
    public long Batches => Interlocked.Read(ref batches);
    public long BatchedRequests => Interlocked.Read(ref batchedRequests);

    /// <summary>Of those, the requests that joined a batch while it was decoding.</summary>
    public long JoinedRequests => Interlocked.Read(ref joined);

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
            while (Take() is { } job)
            {
                // With batching on, even a lone request starts a batch: those that come while it decodes can join it.
                if (job.Request.N == 1 && maxBatch > 1) RunBatch(Behind(job));
                else Run(job);
            }
    }

    /// <summary>The next waiting request whose client is still there, or null when none waits.</summary>
    private Job? Take()
    {
        while (jobs.Reader.TryRead(out var job))
        {
            Interlocked.Decrement(ref waiting);
            job.QueueMs = job.Clock.Elapsed.TotalMilliseconds;
            if (!job.Ct.IsCancellationRequested) return job;
            Interlocked.Increment(ref cancelled);
            job.Source.TrySetCanceled(job.Ct);
        }
        return null;
    }

    /// <summary>
    /// <paramref name="first"/> and the one-sample requests waiting right behind it that fit one batch with it, in order;
    /// the first that does not fit stays at the head of the queue for the next turn.
    /// </summary>
    private List<Job> Behind(Job first)
    {
        var batch = new List<Job> { first };
        while (batch.Count < maxBatch && jobs.Reader.TryPeek(out var next) && next.Request.N == 1
               && generator.FitsOneBatch(batch.Append(next).Select(j => (j.Request.PromptTokens, j.Request.Sampling.MaxNewTokens))))
        {
            jobs.Reader.TryRead(out _); // the one peeked: this worker is the only reader
            Interlocked.Decrement(ref waiting);
            next.QueueMs = next.Clock.Elapsed.TotalMilliseconds;
            if (next.Ct.IsCancellationRequested) { Interlocked.Increment(ref cancelled); next.Source.TrySetCanceled(next.Ct); }
            else batch.Add(next);
        }
        return batch;
    }

    private void RunBatch(List<Job> batch)
    {
        var first = batch.ToArray();
        Interlocked.Add(ref active, batch.Count);
        Volatile.Write(ref rows, batch.Count);
        if (batch.Count > 1) CountBatched(batch.Count, newBatch: true);
        var clock = Stopwatch.StartNew();
        try
        {
            // Each request is answered as soon as its own row ends: a short answer does not wait for the batch's longest.
            var results = generator.GenerateBatch(first.Select(j => (j.Request, j.OnText, j.Ct)).ToArray(), (i, result) => Finish(first[i], result),
                take => Offer(take, batch));
            Volatile.Write(ref averageMs, 0.8 * Volatile.Read(ref averageMs) + 0.2 * clock.Elapsed.TotalMilliseconds / batch.Count);
            for (var i = 0; i < first.Length; i++) Finish(first[i], results[i]); // no-ops for those already answered
        }
        catch (Exception e)
        {
            foreach (var job in batch.Where(j => !j.Done.IsCompleted))
            {
                Interlocked.Decrement(ref active);
                if (job.Source.TrySetException(e)) Interlocked.Increment(ref failed);
            }
        }
        finally { Volatile.Write(ref rows, 0); }
    }

    /// <summary>
    /// Continuous batching: the head of the queue, offered to the running <paramref name="batch"/> while it has fewer
    /// than <see cref="MaxBatch"/> rows; dequeued and counted in it when the generator takes it.
    /// </summary>
    private bool Offer(Func<JoiningRequest, bool> take, List<Job> batch)
    {
        while (Volatile.Read(ref rows) < maxBatch && jobs.Reader.TryPeek(out var next))
        {
            if (next.Ct.IsCancellationRequested)
            {
                jobs.Reader.TryRead(out _); // the one peeked: this worker's thread is the only reader now
                Interlocked.Decrement(ref waiting);
                Interlocked.Increment(ref cancelled);
                next.Source.TrySetCanceled(next.Ct);
                continue;
            }
            if (next.Request.N != 1 || !take(new JoiningRequest(next.Request, next.OnText, next.Ct, result => Finish(next, result)))) return false;
            jobs.Reader.TryRead(out _);
            Interlocked.Decrement(ref waiting);
            next.QueueMs = next.Clock.Elapsed.TotalMilliseconds;
            batch.Add(next);
            Interlocked.Increment(ref active);
            Interlocked.Increment(ref rows);
            Interlocked.Increment(ref joined);
            // A lone request that someone joins becomes a batch of two here.
            CountBatched(batch.Count == 2 ? 2 : 1, newBatch: batch.Count == 2);
            return true;
        }
        return false;
    }

    private void CountBatched(int requests, bool newBatch)
    {
        if (newBatch) Interlocked.Increment(ref batches);
        Interlocked.Add(ref batchedRequests, requests);
    }

    /// <summary>Answers a batched request once (its tokens counted then), or cancels it when its client left.</summary>
    private void Finish(Job job, Model.Generation.Completion result)
    {
        if (job.Done.IsCompleted) return;
        Interlocked.Decrement(ref rows); // its row has left the batch: room for one more
        // Counted before the answer: a client holding its answer must see itself in the health counters, not active.
        Interlocked.Decrement(ref active);
        Interlocked.Add(ref tokens, result.Tokens);
        if (job.Ct.IsCancellationRequested)
        {
            Interlocked.Increment(ref cancelled);
            job.Source.TrySetCanceled(job.Ct);
        }
        else
        {
            Interlocked.Increment(ref completed);
            job.Source.TrySetResult([result]);
        }
    }

    private void Run(Job job)
    {
        Interlocked.Increment(ref active);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<Model.Generation.Completion>? results = null;
        Exception? error = null;
        try { results = generator.Generate(job.Request, job.OnText, job.Ct); }
        catch (Exception e) { error = e; }
        Interlocked.Decrement(ref active); // before the answer, as in Finish
        if (results is not null) Interlocked.Add(ref tokens, results.Sum(r => (long)r.Tokens));
        if (error is OperationCanceledException || (error is null && job.Ct.IsCancellationRequested))
        {
            Interlocked.Increment(ref cancelled);
            job.Source.TrySetCanceled(job.Ct);
        }
        else if (error is not null) { Interlocked.Increment(ref failed); job.Source.TrySetException(error); }
        else
        {
            Interlocked.Increment(ref completed);
            Volatile.Write(ref averageMs, 0.8 * Volatile.Read(ref averageMs) + 0.2 * clock.Elapsed.TotalMilliseconds);
            job.Source.TrySetResult(results!);
        }
    }

    /// <summary>Stops taking requests; those still waiting are cancelled, the one decoding finishes its step first.</summary>
    public void Dispose()
    {
        if (!jobs.Writer.TryComplete()) return;
        worker.Join(TimeSpan.FromSeconds(30));
        while (jobs.Reader.TryRead(out var job)) job.Source.TrySetCanceled();
    }
}
