using CodeLm.Tokenizer;
using CodeLm.Model.Generation;
using CodeLm.Server.Completion;

namespace CodeLm.Server.Tests.Support;

/// <summary>
/// A deterministic engine for tests of the protocol layer, where the model is not what is under test: it answers with
/// <see cref="Respond"/>, can be slowed down (honouring cancellation), and records every prompt and option it saw.
/// Tokens are counted as whitespace-separated words plus line breaks.
/// </summary>
public sealed class ScriptedEngine : ICompletionEngine
{
    public Func<CompletionPrompt, string> Respond { get; set; } = _ => "completion()";
    public TimeSpan Delay { get; set; }
    public List<(CompletionPrompt Prompt, EngineOptions Options)> Calls { get; } = [];
    public int ContextLength { get; set; } = 4096;

    public int CountTokens(string text) => text.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Length + text.Count(c => c == '\n');

    /// <summary>The production cut (whole lines under the FIM budget), counting tokens as above.</summary>
    /// <summary>The production packing (whole context files in rank order) and cut, counting tokens as above.</summary>
    public CompletionPrompt Fit(CompletionPrompt prompt, EngineOptions options)
    {
        var (files, used, contextBudget) = (new List<ContextFile>(), 0, options.RepoContextBudget(ContextLength));
        foreach (var f in prompt.Context)
        {
            var tokens = CountTokens(f.Path + "\n" + f.Text);
            if (used + tokens > contextBudget) continue;
            files.Add(f);
            used += tokens;
        }
        var budget = PromptBudget.FimTokens(ContextLength, options.Sampling(ContextLength)) - used;
        var (prefix, suffix) = PromptBudget.SplitFimLines(prompt.Prefix, prompt.Suffix, budget, options.PrefixShare, CountTokens);
        return prompt with { Prefix = prefix, Suffix = suffix, Context = files };
    }

    /// <summary>What <see cref="Continue"/> answers, given the prompt; records each prompt in <see cref="Continued"/>.</summary>
    public Func<string, string> RespondContinue { get; set; } = _ => "translated()";
    public List<string> Continued { get; } = [];

    public string Continue(string prompt, int maxNewTokens, IReadOnlyList<string> stops, CancellationToken ct)
    {
        lock (Continued) Continued.Add(prompt);
        ct.ThrowIfCancellationRequested();
        return RespondContinue(prompt);
    }

    /// <summary>What <see cref="Sample"/> answers: sample i of n for the prompt (default: the greedy answer plus " #i").</summary>
    public Func<CompletionPrompt, int, string>? RespondSample { get; set; }
    public List<(CompletionPrompt Prompt, EngineOptions Options, int N)> Samples { get; } = [];

    public IReadOnlyList<string> Sample(CompletionPrompt prompt, EngineOptions options, int n, Func<string, bool> shouldStop, CancellationToken ct)
    {
        lock (Samples) Samples.Add((prompt, options, n));
        ct.ThrowIfCancellationRequested();
        return Enumerable.Range(0, n).Select(i => Streamed(RespondSample?.Invoke(prompt, i) ?? Respond(prompt) + " #" + i, shouldStop)).ToArray();
    }

    public string Complete(CompletionPrompt prompt, EngineOptions options, Func<string, bool> shouldStop, CancellationToken ct)
    {
        lock (Calls) Calls.Add((prompt, options));
        if (Delay > TimeSpan.Zero) Task.Delay(Delay, ct).GetAwaiter().GetResult();
        ct.ThrowIfCancellationRequested();
        return Streamed(Respond(prompt), shouldStop);
    }

    /// <summary>Streams <paramref name="full"/> character by character the way a model streams tokens, stopping where the server says.</summary>
    private static string Streamed(string full, Func<string, bool> shouldStop)
    {
        for (var i = 1; i <= full.Length; i++)
            if (shouldStop(full[..i])) return full[..i];
        return full;
    }
}
