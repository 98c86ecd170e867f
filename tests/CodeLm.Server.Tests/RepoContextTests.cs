using CodeLm.Model.Generation;
using CodeLm.Server.Context;
using CodeLm.Server.Tests.Support;

namespace CodeLm.Server.Tests;

/// <summary>Context from other files: what is found in a file, how it is ranked, and what reaches the engine over LSP.</summary>
public sealed class RepoContextTests
{
    private const string Util = """
        import json


        def parse_config(path):
            with open(path) as f:
                return json.load(f)


        class Registry:
            def __init__(self):
                self.items = {}

            def register(self, name, item):
                self.items[name] = item
        """;

    private const string Unrelated = "def add(a, b):\n    return a + b\n";

    [Fact]
    public void Definitions_are_found_with_their_bodies_in_every_family_of_syntax()
    {
        var py = new CodeSnippets("util.py", Util).Definitions;
        Assert.Equal(["Registry", "__init__", "parse_config", "register"], py.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("def parse_config(path):\n    with open(path) as f:\n        return json.load(f)", py["parse_config"].Text);
        Assert.Equal(3, py["parse_config"].StartLine);

        var go = new CodeSnippets("a.go", "package a\n\nfunc (c *Client) Fetch(url string) error {\n\treturn nil\n}\n\ntype Client struct {\n\tname string\n}\n").Definitions;
        Assert.Equal("func (c *Client) Fetch(url string) error {\n\treturn nil\n}", go["Fetch"].Text);
        Assert.True(go.ContainsKey("Client"));
        var rs = new CodeSnippets("a.rs", "pub fn parse(s: &str) -> u32 {\n    s.len() as u32\n}\n").Definitions;
        Assert.True(rs.ContainsKey("parse"));
        var cs = new CodeSnippets("A.cs", "public sealed class Store\n{\n    public static int Count(string path)\n    {\n        return 0;\n    }\n}\n").Definitions;
        Assert.Equal(["Count", "Store"], cs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("    public static int Count(string path)\n    {\n        return 0;\n    }", cs["Count"].Text);
        var js = new CodeSnippets("a.js", "export const makeClient = (url) => {\n  return url;\n};\nfunction helper() {}\n").Definitions;
        Assert.Equal(["helper", "makeClient"], js.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(new CodeSnippets("b.py", "x = parse_config(p)\nprint(x)\n").Definitions);
    }

    [Fact]
    public void A_long_definition_goes_as_its_head_only()
    {
        var body = string.Join("\n", Enumerable.Range(0, 20).Select(i => $"    x{i} = {i}"));
        var d = new CodeSnippets("big.py", $"def build(name,\n          size):\n{body}\n").Definitions["build"];
        Assert.Equal("def build(name,\n          size):", d.Text);
    }

    [Fact]
    public void Definitions_used_above_come_first_then_similar_windows_and_typing_on_the_line_changes_nothing()
    {
        var ranker = new ContextRanker();
        ContextRanker.Source[] others = [new("file:///w/util.py", 1, "util.py", Util), new("file:///w/math.py", 1, "math.py", Unrelated)];
        var text = "from util import parse_config, Registry\n\nconfig = parse_config('a.json')\nregistry = Registry()\nregistry.";
        var ranked = ranker.Rank(text, text.Length, others);
        // Both definitions, in one piece (one path header): Registry first, used last above the cursor.
        Assert.StartsWith("class Registry:\n", ranked[0].Text);
        Assert.Contains("\ndef parse_config(path):\n    with open(path) as f:", ranked[0].Text);
        Assert.All(ranked, f => Assert.Equal("util.py", f.Path)); // nothing of math.py shares an identifier
        foreach (var typed in new[] { "r", "reg", "register(" })
            Assert.Equal(ranked, ranker.Rank(text + typed, text.Length + typed.Length, others));

        // A name the file defines itself is not fetched from elsewhere.
        var own = "def parse_config(p):\n    return {}\n\nconfig = parse_config('a.json')\n";
        Assert.DoesNotContain(ranker.Rank(own, own.Length, others), f => f.Text.StartsWith("def parse_config", StringComparison.Ordinal));
        Assert.Empty(ranker.Rank("x", 1, others)); // nothing above the cursor: nothing to go by
    }

    [Fact]
    public async Task Other_open_and_recently_closed_files_reach_the_engine_packed_under_the_budget_and_can_be_turned_off()
    {
        var engine = new ScriptedEngine { Respond = _ => "register('a', 1)" };
        await using var s = new InProcessServer(engine);
        await s.Client.RequestAsync("initialize", new { processId = (int?)null, capabilities = new { }, rootUri = "file:///work/proj",
            initializationOptions = new { repoContextTokens = 1000 } });
        await s.Client.NotifyAsync("initialized", new { });
        await s.Client.OpenAsync("file:///work/proj/pkg/util.py", "python", Util);
        await s.Client.OpenAsync("file:///work/proj/math.py", "python", Unrelated);
        await s.Client.NotifyAsync("textDocument/didClose", new { textDocument = new { uri = "file:///work/proj/math.py" } });
        const string main = "from pkg.util import Registry\n\nregistry = Registry()\nregistry.\n";
        await s.Client.OpenAsync("file:///work/proj/main.py", "python", main);
        await s.Client.InlineAsync("file:///work/proj/main.py", 3, 9);
        var prompt = engine.Calls[^1].Prompt;
        Assert.Equal(("proj", "main.py"), (prompt.Repo, prompt.Path));
        Assert.Equal("pkg/util.py", prompt.Context[0].Path);
        Assert.StartsWith("class Registry:", prompt.Context[0].Text);
        Assert.Contains("context inline file:///work/proj/main.py: pkg/util.py", s.LogText.ToString());

        // A budget of a few tokens keeps only what fits; off, nothing.
        await s.Client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { repoContextTokens = 12 } } });
        await s.Client.InlineAsync("file:///work/proj/main.py", 3, 9);
        Assert.All(engine.Calls[^1].Prompt.Context, f => Assert.True(engine.CountTokens(f.Path + "\n" + f.Text) <= 12));
        await s.Client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { codelm = new { repoContext = false } } });
        await s.Client.InlineAsync("file:///work/proj/main.py", 3, 9);
        Assert.Empty(engine.Calls[^1].Prompt.Context);
    }
}
