using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CodeLm.Tests;

namespace CodeLm.Cli.Tests;

/// <summary>
/// The README's "Fine-tune a model on your code" walkthrough, run as written: each `codelm` line of its code block, in
/// order, through the real command, on the tiny Qwen2-layout folder, with the placeholders pointed at test material and
/// the sizes made small. `codelm serve` is driven over its stdio like an editor: initialize, then an inline completion.
/// </summary>
public sealed partial class ReadmeFineTuneTests(TinyQwenFolder folder) : IClassFixture<TinyQwenFolder>
{
    [Fact]
    public void Every_command_of_the_walkthrough_runs_in_order()
    {
        var commands = Walkthrough();
        Assert.Equal(["data build", "data tokenize", "train", "sample", "eval run", "serve", "export"],
            commands.Select(c => c[0] == "data" || c[0] == "eval" ? $"{c[0]} {c[1]}" : c[0]));
        using var tmp = new TempDir();
        foreach (var command in commands)
        {
            var args = Small(command, tmp);
            if (args[0] == "serve") { Serve(args, tmp.Path); continue; }
            var r = CodeLmCli.Run(args, tmp.Path);
            Assert.True(r.ExitCode == 0, $"codelm {string.Join(' ', args)}: {r.Stderr}{r.Stdout}");
        }
        Assert.True(File.Exists(Path.Combine(tmp.Path, "runs", "myrepo", "best", "adapter_model.safetensors")));
        Assert.True(File.Exists(Path.Combine(tmp.Path, "runs", "myrepo", "eval", "summary.json")));
        Assert.True(new FileInfo(Path.Combine(tmp.Path, "myrepo-q8_0.gguf")).Length > 0);
    }

    /// <summary>The `codelm` lines of the README block, split as a shell would (quotes kept together).</summary>
    private static List<string[]> Walkthrough()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var section = readme[readme.IndexOf("## Fine-tune a model on your code", StringComparison.Ordinal)..];
        var block = section[(section.IndexOf("```bash", StringComparison.Ordinal) + 7)..];
        block = block[..block.IndexOf("```", StringComparison.Ordinal)];
        return block.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("codelm ", StringComparison.Ordinal))
            .Select(l => Words().Matches(l).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Value).Skip(1).ToArray()).ToList();
    }

    // Placeholders to test material; steps, lengths and problem counts to what a tiny model needs.
    private string[] Small(string[] command, TempDir tmp)
    {
        var smaller = new Dictionary<string, string> { ["--max-steps"] = "4", ["--batch-size"] = "2", ["--seq-len"] = "64", ["--max-new-tokens"] = "8" };
        var args = command.Select(a => a switch
        {
            "$M" => folder.Dir,
            "~/src/myrepo" => TestPaths.SharedCorpus("requests"),
            "humaneval.jsonl.gz" => TestPaths.HumanEval,
            _ => a,
        }).ToList();
        for (int i = 0; i + 1 < args.Count; i++)
            if (smaller.TryGetValue(args[i], out var value)) args[i + 1] = value;
        if (args[0] == "data" && args[1] == "build") args.AddRange(["--cache", tmp.File("cache")]);
        if (args[0] == "train") args.AddRange(["--eval-interval", "2", "--eval-batches", "1", "--warmup", "1"]);
        if (args[0] == "eval") args.AddRange(["--limit", "2"]);
        return [.. args];
    }

    private static void Serve(string[] args, string cwd)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = cwd, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(CodeLmCli.DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            var init = Request(p, 1, "initialize", new { processId = Environment.ProcessId, capabilities = new { }, rootUri = (string?)null });
            Assert.True(init.TryGetProperty("result", out var result) && result.TryGetProperty("capabilities", out _), init.ToString());
            Notify(p, "initialized", new { });
            var uri = "file:///tmp/readme/app.py";
            Notify(p, "textDocument/didOpen", new { textDocument = new { uri, languageId = "python", version = 1, text = "import os\n\ndef get(url):\n    " } });
            var completion = Request(p, 2, "textDocument/inlineCompletion", new
            {
                textDocument = new { uri }, position = new { line = 3, character = 4 }, context = new { triggerKind = 1 },
            });
            Assert.True(completion.TryGetProperty("result", out var items), completion.ToString());
            Assert.True(items.ValueKind is JsonValueKind.Array or JsonValueKind.Object, completion.ToString());
            Request(p, 3, "shutdown", null);
            Notify(p, "exit", null);
            Assert.True(p.WaitForExit(30_000), "codelm serve did not exit after shutdown and exit");
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            Assert.DoesNotContain("error", stderr.Result.Split('\n').Where(l => l.StartsWith("codelm serve:")).FirstOrDefault() ?? "");
        }
    }

    private static JsonElement Request(Process p, int id, string method, object? parameters)
    {
        Write(p, new { jsonrpc = "2.0", id, method, @params = parameters });
        while (true)
        {
            var message = Read(p);
            if (message.TryGetProperty("id", out var got) && got.ValueKind == JsonValueKind.Number && got.GetInt32() == id && !message.TryGetProperty("method", out _))
                return message;
        }
    }

    private static void Notify(Process p, string method, object? parameters) => Write(p, new { jsonrpc = "2.0", method, @params = parameters });

    private static void Write(Process p, object message)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(message);
        var stream = p.StandardInput.BaseStream;
        stream.Write(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"));
        stream.Write(body);
        stream.Flush();
    }

    private static JsonElement Read(Process p)
    {
        var stream = p.StandardOutput.BaseStream;
        int length = -1;
        while (true)
        {
            var line = ReadLine(stream) ?? throw new EndOfStreamException("codelm serve closed its stdout");
            if (line.Length == 0) break;
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
        }
        var body = new byte[length];
        stream.ReadExactly(body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string? ReadLine(Stream s)
    {
        var bytes = new List<byte>();
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) return bytes.Count == 0 ? null : Encoding.ASCII.GetString([.. bytes]);
            if (b == '\n') return Encoding.ASCII.GetString([.. bytes]).TrimEnd('\r');
            bytes.Add((byte)b);
        }
    }

    [GeneratedRegex("\"([^\"]*)\"|\\S+")]
    private static partial Regex Words();
}
