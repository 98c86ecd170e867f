using System.CommandLine;
using CodeLm.Cli;

// The same command tree as `codelm data` minus `tokenize`, which needs the tokenizer's JSON models at run time.
var root = new RootCommand("codelm-data: codelm's corpus commands, compiled ahead of time. Run them as `codelm data crawl|clean|build`.");
var data = new Command("data", "Crawl repositories and clean them into a language-tagged, deduplicated corpus.");
CorpusCommands.AddTo(data);
root.Add(data);
var rc = await CliRunner.InvokeAsync(root, args);
// What the collector cost, for performance work: codelm-data runs non-concurrent, so every pause stops both scan workers.
if (Environment.GetEnvironmentVariable("CODELM_DEBUG") == "1")
    Console.Error.WriteLine($"gc: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} collections (gen0/1/2), " +
                            $"{GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms paused, {GC.GetTotalAllocatedBytes() / 1e6:F0} MB allocated");
return rc;
