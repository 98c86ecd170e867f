using CodeLm.Server.Tests.Support;

namespace CodeLm.Server.Tests;

/// <summary>
/// Several candidates per inline completion, and typing along a shown one, over real pipes with a scripted engine: what
/// the server asks the engine for and what it answers.
/// </summary>
public sealed class CandidatesTests
{
    private const string Uri = "file:///work/loop.py";

    [Fact]
    public async Task Typing_gets_the_greedy_item_only_and_cycling_gets_distinct_shaped_samples_after_it()
    {
        var engine = new ScriptedEngine
        {
            Respond = _ => "range(10):",
            // Sample 0 shapes to the greedy item (dropped), 1 is cut at its line break, 2 and 3 are distinct.
            RespondSample = (_, i) => i switch { 0 => "range(10):  ", 1 => "range(n):\n    pass", 2 => "items:", _ => "zip(a, b):" },
        };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync(new { candidates = 4 });
        await s.Client.OpenAsync(Uri, "python", "for i in \n");

        var typing = await s.Client.InlineAsync(Uri, 0, 9);
        Assert.Equal(["range(10):"], LspClient.InsertTexts(typing));
        Assert.Empty(engine.Samples);

        var cycling = await s.Client.InlineAsync(Uri, 0, 9, invoked: true);
        Assert.Equal(["range(10):", "range(n):", "items:", "zip(a, b):"], LspClient.InsertTexts(cycling));
        var (prompt, options, n) = Assert.Single(engine.Samples);
        Assert.Equal(4, n);
        Assert.Equal(0.8f, options.Temperature);
        Assert.Equal(0.95f, options.TopP);
        // The same prompt: the samples reuse the greedy item's prefill.
        Assert.Equal((engine.Calls[0].Prompt.Prefix, engine.Calls[0].Prompt.Suffix), (prompt.Prefix, prompt.Suffix));
        Assert.Single(engine.Calls); // the greedy item came from the cache

        // Asked again: every item from the cache.
        Assert.Equal(LspClient.InsertTexts(cycling), LspClient.InsertTexts(await s.Client.InlineAsync(Uri, 0, 9, invoked: true)));
        Assert.Single(engine.Samples);
    }

    [Fact]
    public async Task Eager_mode_answers_every_request_with_all_candidates_and_one_candidate_turns_sampling_off()
    {
        var engine = new ScriptedEngine { Respond = _ => "range(10):" };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync(new { candidates = 3, candidateMode = "eager", candidateTemperature = 0.5 });
        await s.Client.OpenAsync(Uri, "python", "for i in \n");
        Assert.Equal(["range(10):", "range(10): #0", "range(10): #1"], LspClient.InsertTexts(await s.Client.InlineAsync(Uri, 0, 9)));
        Assert.Equal(0.5f, Assert.Single(engine.Samples).Options.Temperature);

        await s.Client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { candidates = 1 } } });
        Assert.Equal(["range(10):"], LspClient.InsertTexts(await s.Client.InlineAsync(Uri, 0, 9, invoked: true)));
        Assert.Single(engine.Samples);
    }

    [Fact]
    public async Task Typing_along_or_accepting_part_of_a_shown_completion_is_answered_from_it_without_the_model()
    {
        var engine = new ScriptedEngine { Respond = p => p.Prefix.EndsWith("in ") ? "range(len(items)):" : "print(i)" };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync();
        await s.Client.OpenAsync(Uri, "python", "for i in \n");
        Assert.Equal("range(len(items)):", LspClient.FirstInsertText(await s.Client.InlineAsync(Uri, 0, 9)));

        // Typed along, one character at a time, then a word accepted at once (the editor inserts it, then asks again).
        var (version, line) = (2, "for i in ");
        foreach (var (typed, rest) in new[] { ("r", "ange(len(items)):"), ("a", "nge(len(items)):"), ("nge(", "len(items)):") })
        {
            await s.Client.ChangeAsync(Uri, version++, 0, line.Length, 0, line.Length, typed);
            line += typed;
            Assert.Equal(rest, LspClient.FirstInsertText(await s.Client.InlineAsync(Uri, 0, line.Length)));
        }
        Assert.Single(engine.Calls);
        Assert.Equal(3, s.Completions.Continued);

        // Typing something else asks the model again.
        await s.Client.ChangeAsync(Uri, version++, 0, 15, 0, 15, "x");
        Assert.Equal("print(i)", LspClient.FirstInsertText(await s.Client.InlineAsync(Uri, 0, 16)));
        Assert.Equal(2, engine.Calls.Count);
    }

    [Fact]
    public async Task Typing_along_keeps_the_other_candidates_that_still_match_and_ends_with_the_completion()
    {
        var engine = new ScriptedEngine { Respond = _ => "range(10):", RespondSample = (_, i) => i == 0 ? "range(n):" : "items:" };
        await using var s = new InProcessServer(engine);
        await s.Client.StartAsync(new { candidates = 3, candidateMode = "eager" });
        await s.Client.OpenAsync(Uri, "python", "for i in \n");
        Assert.Equal(["range(10):", "range(n):", "items:"], LspClient.InsertTexts(await s.Client.InlineAsync(Uri, 0, 9)));
        await s.Client.ChangeAsync(Uri, 2, 0, 9, 0, 9, "range(");
        Assert.Equal(["10):", "n):"], LspClient.InsertTexts(await s.Client.InlineAsync(Uri, 0, 15)));
        Assert.Single(engine.Samples);

        // The whole item typed: nothing is left of it, so the model runs for what comes next.
        await s.Client.ChangeAsync(Uri, 3, 0, 15, 0, 15, "10):");
        await s.Client.InlineAsync(Uri, 0, 19);
        Assert.Equal(2, engine.Calls.Count);
    }
}
