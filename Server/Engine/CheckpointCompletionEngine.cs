using CodeLm.Model;
using CodeLm.Model.Generation;
using CodeLm.Model.Inference;
using CodeLm.Model.Native;
using CodeLm.Common;
using CodeLm.Server.Completion;
using CodeLm.Server.Http;
using CodeLm.Tokenizer;
using static TorchSharp.torch;
using Generator = CodeLm.Model.Generation.Generator;

namespace CodeLm.Server.Engine;

/// <summary>
/// Fill-in-the-middle on a checkpoint through the <see cref="Generator"/>, which owns the decoding: by default its KV cache
/// lives as long as the engine, so a prompt that starts like the previous one (while typing, with SPM, everything but the
/// new characters) only prefills what changed, and one-token steps run on one thread. Calls may come from any thread:
/// they run one at a time on the engine's own thread (<see cref="TorchThread"/>).
/// </summary>
public sealed class CheckpointCompletionEngine : ICompletionEngine, ITextGenerator, IDisposable
{
    private readonly Gpt model;
    private readonly CodeTokenizer tokenizer;
    private readonly Generator generator;
    private readonly TorchThread torchThread;
    private readonly Device device;

    public CheckpointCompletionEngine(Gpt model, CodeTokenizer tokenizer, Device device, bool reuseKvCache = true)
    {
        this.model = model;
        this.device = device;
        this.tokenizer = tokenizer;
        generator = new Generator(model, tokenizer, device, new GeneratorOptions(ReuseKvCache: reuseKvCache, OneThreadSteps: true));
        torchThread = new TorchThread("codelm-model"); // last: nothing after it can throw and leak the thread
    }

    /// <summary>
    /// Loads config, weights and tokenizer from a checkpoint (or run) directory onto <paramref name="deviceSpec"/> ("cpu",
    /// "cuda", "auto"), computing with the weights <see cref="CpuInference.Choose"/> picks for <paramref name="precision"/>.
    /// </summary>
    public static CheckpointCompletionEngine Load(string checkpointDir, string deviceSpec = "cpu", bool reuseKvCache = true, InferencePrecision precision = InferencePrecision.Auto, Action<string>? progress = null)
    {
        checkpointDir = Checkpoint.Resolve(checkpointDir);
        if (!Directory.Exists(checkpointDir)) throw new DirectoryNotFoundException($"checkpoint directory '{checkpointDir}' does not exist");
        TorchNativeLoader.EnsureLoaded();
        var device = Devices.Resolve(deviceSpec);
        var (model, _, tokenizer) = CpuInference.Load(checkpointDir, device, precision, progress);
        try
        {
            return new CheckpointCompletionEngine(model, tokenizer, device, reuseKvCache);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>What the model computes with, e.g. "int8 steps, bfloat16 prompts".</summary>
    public InferenceWeights Weights => CpuInference.WeightsOf(model);

    public GptConfig Config => model.Config;
    public int ContextLength => model.Config.ContextLength;
    public int CountTokens(string text) => tokenizer.Encode(text).Length;

    /// <summary>Runs one short completion so the first real request does not pay for lazy initialisation.</summary>
    public void WarmUp() =>
        _ = Complete(new CompletionPrompt("# language: Python\ndef add(a, b):\n    return", "\n", "Python"), new EngineOptions(4, 0), _ => false, CancellationToken.None);

    public CompletionPrompt Fit(CompletionPrompt prompt, EngineOptions options)
    {
        var (files, ids) = RepoContext.Pack(tokenizer, prompt.Context, options.RepoContextBudget(ContextLength), prompt.Repo, prompt.Path, prompt.Language);
        var (prefix, suffix) = generator.FitFim(prompt.Prefix, prompt.Suffix, options.Sampling(ContextLength), ids.Length);
        return prompt with { Prefix = prefix, Suffix = suffix, Context = files };
    }

    /// <summary>The prompt ids of a fitted prompt: its context files, then the FIM layout.</summary>
    private int[] PromptIds(CompletionPrompt prompt, SamplingOptions sampling) =>
        generator.BuildFimPrompt(prompt.Prefix, prompt.Suffix, sampling, RepoContext.Encode(tokenizer, prompt.Context, prompt.Repo, prompt.Path, prompt.Language));

    /// <summary>Runs on the engine's own thread (see <see cref="TorchThread"/>); the caller waits.</summary>
    public string Complete(CompletionPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct) =>
        torchThread.Run(() =>
        {
            var sampling = options.Sampling(ContextLength);
            var text = new System.Text.StringBuilder();
            var result = generator.Decode(PromptIds(prompt, sampling), 1, sampling, (_, delta) =>
            {
                if (delta.Length == 0) return false;
                text.Append(delta);
                return shouldStop(text.ToString());
            }, ct)[0];
            ct.ThrowIfCancellationRequested();
            return result.Text;
        });

    public IReadOnlyList<string> Sample(CompletionPrompt prompt, EngineOptions options, int n, Func<string, bool> shouldStop, CancellationToken ct) =>
        torchThread.Run(() =>
        {
            if (options.Temperature <= 0) throw new ArgumentException("sampled candidates need a temperature above 0");
            var sampling = options.Sampling(ContextLength);
            var texts = Enumerable.Range(0, n).Select(_ => new System.Text.StringBuilder()).ToArray();
            // The prompt is usually in the generator's cache already (the greedy candidate just ran on it): the samples
            // then prefill nothing and decode as one batch.
            var results = generator.Decode(PromptIds(prompt, sampling), n, sampling, (i, delta) =>
            {
                if (delta.Length == 0) return false;
                texts[i].Append(delta);
                return shouldStop(texts[i].ToString());
            }, ct);
            ct.ThrowIfCancellationRequested();
            return results.Select(r => r.Text).ToArray();
        });

    public string Continue(string prompt, int maxNewTokens, IReadOnlyList<string> stops, CancellationToken ct) =>
        torchThread.Run(() =>
        {
            var text = generator.Generate(prompt, 1, new SamplingOptions(maxNewTokens, 0) { StopSequences = stops }, null, ct)[0].Text;
            ct.ThrowIfCancellationRequested();
            return text;
        });

    public int PromptTokens(string prompt, string? suffix) =>
        (tokenizer.BeginOfText is null ? 0 : 1) + tokenizer.Encode(prompt).Length
        + (suffix is null || !tokenizer.HasFim ? 0 : tokenizer.Encode(suffix).Length + FimLayout.SentinelCount);

    /// <summary>
    /// The HTTP endpoint's generation, on the engine's own thread. The caller has checked that the prompt fits beside the
    /// new tokens, so the budget is the whole rest of the context and nothing is cut.
    /// </summary>
    public IReadOnlyList<Model.Generation.Completion> Generate(TextRequest request, TextCallback? onText, CancellationToken ct) =>
        torchThread.Run(() =>
        {
            var sampling = request.Sampling with { MaxPromptTokens = Math.Max(1, ContextLength - request.Sampling.MaxNewTokens) };
            var ids = request.Suffix is null ? generator.BuildPrompt(request.Prompt, sampling) : generator.BuildFimPrompt(request.Prompt, request.Suffix, sampling);
            return generator.Decode(ids, request.N, sampling, onText, ct);
        });

    public bool CanBatch => true;

    /// <summary>
    /// 1 on the CPU: there the one-sequence int8 step (<see cref="CpuDecodeStep"/>) outruns a batched libtorch step per
    /// token, and batching measured 0.89× the throughput of one request at a time (docs/benchmarks.md); 8 elsewhere.
    /// </summary>
    public int PreferredBatch => device.type == TorchSharp.DeviceType.CPU ? 1 : 8;

    public bool FitsOneBatch(IEnumerable<(int PromptTokens, int MaxNewTokens)> requests) => generator.FitsOneBatch(requests);

    /// <summary>
    /// Different prompts as one batch through <see cref="Generator.DecodeBatch"/>, on the engine's own thread; requests
    /// the <paramref name="offer"/> gives join it between steps.
    /// </summary>
    public IReadOnlyList<Model.Generation.Completion> GenerateBatch(IReadOnlyList<(TextRequest Request, TextCallback? OnText, CancellationToken Ct)> requests,
        Action<int, Model.Generation.Completion>? finished = null, BatchOffer? offer = null) =>
        torchThread.Run(() => generator.DecodeBatch(
            requests.Select((r, i) => Prompt(r.Request, r.OnText, r.Ct, finished is null ? null : c => finished(i, c))).ToArray(),
            offer is null ? null : take => offer(joining => take(Prompt(joining.Request, joining.OnText, joining.Ct, joining.Finished)))));

    private BatchPrompt Prompt(TextRequest request, TextCallback? onText, CancellationToken ct, Action<Model.Generation.Completion>? finished)
    {
        var sampling = request.Sampling with { MaxPromptTokens = Math.Max(1, ContextLength - request.Sampling.MaxNewTokens) };
        var ids = request.Suffix is null ? generator.BuildPrompt(request.Prompt, sampling) : generator.BuildFimPrompt(request.Prompt, request.Suffix, sampling);
        return new BatchPrompt(ids, sampling, onText is null ? null : (_, delta) => onText(0, delta), ct, finished);
    }

    public void Dispose()
    {
        torchThread.Dispose();
        generator.Dispose();
        model.Dispose();
    }
}
