using System.Text.Json;
using CodeLm.Model.Inference;
using CodeLm.Server.Completion;
using CodeLm.Server.Documents;
using CodeLm.Server.Engine;
using CodeLm.Server.Tests.Support;
using CodeLm.Tests;
using CodeLm.Tokenizer;

namespace CodeLm.Server.Tests;

/// <summary>
/// The real `codelm serve` process started on a Hugging Face model folder (<see cref="TinyQwenFolder"/>: Qwen2 weights,
/// Qwen2.5-Coder's tokenizer layout) and driven over its stdin/stdout by the LSP client: the completion it answers is
/// the one the same folder gives through the same pipeline in this process, with the family's FIM sentinels.
/// </summary>
public sealed class OpenModelEndToEndTests : IClassFixture<TinyQwenFolder>
{
    private readonly TinyQwenFolder folder;

    public OpenModelEndToEndTests(TinyQwenFolder folder)
    {
        // Load libtorch before anything touches TorchSharp: when this class runs first in the process, the type
        // initializer would otherwise fail, and stay failed for every later test.
        CodeLm.Model.Native.TorchNativeLoader.EnsureLoaded();
        this.folder = folder;
    }

    private static readonly CompletionSettings Settings = new() { MaxNewTokens = 16 };

    // Candidate documents, cursor at the end of the first line's "= ": a random model may well answer a given one with
    // nothing (an end-of-text or a line break first), so the test takes the first the model completes.
    private static readonly string[] Documents =
    [
        "def scale(values, factor):\n    result = \n    return result\n",
        "import requests\n\nsession = \nprint(session)\n",
        "class Client:\n    def get(self, url):\n        response = \n        return response\n",
        "headers = \ntimeout = 10\n",
    ];

    [Fact]
    public async Task Serve_completes_at_the_cursor_with_the_models_own_fim_tokens()
    {
        var tokenizer = CodeTokenizer.Load(folder.Dir);
        Assert.Equal([tokenizer.FimPrefix], tokenizer.Encode("<|fim_prefix|>")); // Qwen2.5-Coder's sentinels, not CodeLm's
        Assert.Equal([tokenizer.FimMiddle], tokenizer.Encode("<|fim_middle|>"));

        var (document, offset, expected) = await FirstCompletedAsync();
        using var server = new ServerProcess(folder.Dir, "--precision", "int8");
        using var client = new LspClient(server.ToServer, server.FromServer);
        await client.StartAsync(new { codelm = new { maxNewTokens = Settings.MaxNewTokens } });
        var cursor = TextDocument.PositionOf(document, offset);

        await client.OpenAsync("file:///project/a.py", "python", document);
        var first = await client.InlineAsync("file:///project/a.py", cursor.Line, cursor.Character);
        Assert.Equal(expected, LspClient.FirstInsertText(first));

        // Another document with the same text, after a settings change that clears the cache: generated afresh, the same
        // (without the first document as repository context, which would change the prompt).
        await client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { maxNewTokens = Settings.MaxNewTokens, repoContext = false } } });
        await client.OpenAsync("file:///project/b.py", "python", document);
        Assert.Equal(expected, LspClient.FirstInsertText(await client.InlineAsync("file:///project/b.py", cursor.Line, cursor.Character)));

        await client.RequestAsync("shutdown", null);
        await client.NotifyAsync("exit");
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("int8 steps", server.Stderr);
    }

    [Fact]
    public void Repository_context_uses_the_families_own_repo_name_and_file_separator_tokens_before_the_fim_prompt()
    {
        using var generator = CodeLm.Model.Generation.Generator.Load(folder.Dir, TorchSharp.torch.CPU);
        var t = generator.Tokenizer;
        Assert.Equal(RepoLayout.Qwen, t.RepoLayout);
        ContextFile[] files = [new("pkg/util.py", "def parse(p):\n    return p\n"), new("b.py", "X = 1")];
        var ids = RepoContext.Encode(t, files, "proj", "main.py", "Python");
        int[] expected = [t.RepoName!.Value, .. t.Encode("proj\n"), t.FileSeparator!.Value, .. t.Encode("pkg/util.py\ndef parse(p):\n    return p\n"),
            t.FileSeparator!.Value, .. t.Encode("b.py\nX = 1\n"), t.FileSeparator!.Value, .. t.Encode("main.py\n")];
        Assert.Equal(expected, ids);
        var options = new CodeLm.Model.Generation.SamplingOptions(16) { FimFormat = CodeLm.Common.FimFormat.Psm };
        var prompt = generator.BuildFimPrompt("x = ", "\n", options, ids);
        Assert.Equal([.. ids, .. generator.BuildFimPrompt("x = ", "\n", options)], prompt);
        Assert.Equal(t.FimPrefix, prompt[ids.Length]);

        // Packed under a budget: whole files in rank order while they fit with the markers.
        var (kept, packed) = RepoContext.Pack(t, files, expected.Length - 1, "proj", "main.py", "Python");
        Assert.Equal(["pkg/util.py"], kept.Select(f => f.Path));
        Assert.True(packed.Length <= expected.Length - 1);
    }

    /// <summary>The first candidate this model completes with text, and that text, from the same folder loaded here.</summary>
    private async Task<(string Document, int Offset, string Text)> FirstCompletedAsync()
    {
        using var engine = CheckpointCompletionEngine.Load(folder.Dir, "cpu", reuseKvCache: false, precision: InferencePrecision.Int8);
        var service = new CompletionService(engine, new ServerLog(TextWriter.Null)) { Settings = Settings };
        foreach (var document in Documents)
        {
            var offset = document.IndexOf("= \n", StringComparison.Ordinal) + 2;
            var shaped = (await service.CompleteAsync("file:///expected", document, offset, "python", default)).Completion;
            if (!string.IsNullOrWhiteSpace(shaped?.InsertText)) return (document, offset, shaped.InsertText);
        }
        Assert.Fail($"the model completed none of the {Documents.Length} documents");
        throw new InvalidOperationException();
    }
}
