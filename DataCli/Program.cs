using System.CommandLine;
using CodeLm.Cli;

// The same command tree as `codelm data` minus `tokenize`, which needs the tokenizer's JSON models at run time.
var root = new RootCommand("codelm-data: codelm's corpus commands, compiled ahead of time. Run them as `codelm data crawl|clean|build`.");
var data = new Command("data", "Crawl repositories and clean them into a language-tagged, deduplicated corpus.");
CorpusCommands.AddTo(data);
root.Add(data);
return await CliRunner.InvokeAsync(root, args);
