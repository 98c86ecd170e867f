using CodeLm.Model.Generation;

namespace CodeLm.Server.Http;

/// <summary>
/// One prompt as the OpenAI completions API asks for it: plain text to continue, or, with <paramref name="Suffix"/>,
/// the middle between the two in the model's own fill-in-the-middle layout; <paramref name="N"/> samples.
/// </summary>
public sealed record TextRequest(string Prompt, string? Suffix, int N, SamplingOptions Sampling)
{
    /// <summary>What <see cref="ITextGenerator.PromptTokens"/> counted for it, for the queue's batching (0: unknown).</summary>
    public int PromptTokens { get; init; }
}

/// <summary>A request that joins a running batch, and who is told its completion when its row ends.</summary>
public sealed record JoiningRequest(TextRequest Request, TextCallback? OnText, CancellationToken Ct, Action<Model.Generation.Completion> Finished);

/// <summary>
/// The queue's side of continuous batching: called between steps with the generator's <c>take</c>, it hands
/// <c>take</c> the request at the head of the queue, dequeues it when <c>take</c> accepts it (it fits the batch), and
/// answers whether it did; false ends this round of joining.
/// </summary>
public delegate bool BatchOffer(Func<JoiningRequest, bool> take);

/// <summary>
/// What the HTTP endpoint needs from a model. <see cref="Engine.CheckpointCompletionEngine"/> implements it over the
/// <see cref="Generator"/>, which does the decoding; the endpoint only queues, checks and words.
/// </summary>
public interface ITextGenerator
{
    /// <summary>The prompt and new tokens the model can attend to at once.</summary>
    int ContextLength { get; }

    /// <summary>Tokens the model would read for the request's prompt (and suffix, with its FIM sentinels), uncut.</summary>
    int PromptTokens(string prompt, string? suffix);

    /// <summary>
    /// The request's N samples, decoded as one batch from one prefill. Blocks until done; <paramref name="onText"/> is
    /// told each text delta as <see cref="Generator.Decode"/> tells it. A cancelled request ends after the current step,
    /// its samples marked <see cref="FinishReason.Cancelled"/>.
    /// </summary>
    IReadOnlyList<Model.Generation.Completion> Generate(TextRequest request, TextCallback? onText, CancellationToken ct);

    /// <summary>Whether <see cref="GenerateBatch"/> decodes different prompts together (else it runs them one by one).</summary>
    bool CanBatch => false;

    /// <summary>The batch size to use when the server is not told one: where batching pays on this device.</summary>
    int PreferredBatch => 1;

    /// <summary>Whether requests with these prompt sizes and token budgets fit one batch.</summary>
    bool FitsOneBatch(IEnumerable<(int PromptTokens, int MaxNewTokens)> requests) => true;

    /// <summary>
    /// Requests of one sample each (N = 1), decoded as one batch where the generator can: one completion per request,
    /// in order, each also handed to <paramref name="finished"/> (with its index) as soon as its row ends; each
    /// request's callback is told its own text (as sample 0) and its own token cancels only it. With
    /// <paramref name="offer"/>, more requests join the batch while it decodes (continuous batching): before each step the
    /// generator asks for them (see <see cref="BatchOffer"/>).
    /// </summary>
    IReadOnlyList<Model.Generation.Completion> GenerateBatch(IReadOnlyList<(TextRequest Request, TextCallback? OnText, CancellationToken Ct)> requests,
        Action<int, Model.Generation.Completion>? finished = null, BatchOffer? offer = null) =>
        requests.Select((r, i) =>
        {
            var c = Generate(r.Request, r.OnText, r.Ct)[0];
            finished?.Invoke(i, c);
            return c;
        }).ToArray();
}
