using System.CommandLine;
using CodeLm.Cli;
using CodeLm.Model.Native;

// Before anything allocates: restart once with glibc malloc tuned for large tensors (see NativeAllocator).
NativeAllocator.ReexecuteTuned();

var root = new RootCommand("CodeLm: crawl code, train a tokenizer and a code model, evaluate it, and serve completions to your editor.");
root.Add(DataCommands.Create());
root.Add(TokenizerCommands.Create());
root.Add(TrainCommands.Create());
root.Add(SampleCommands.Create());
root.Add(EvalCommands.Create());
root.Add(ServeCommands.Create());
root.Add(ExportCommand.Create());
root.Add(QuickstartCommand.Create());
root.Add(DoctorCommand.Create());
return await CliRunner.InvokeAsync(root, args);
