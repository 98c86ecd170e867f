using System.CommandLine;

namespace CodeLm.Cli;

public static class TokenizerCommands
{
    public static Command Create()
    {
        var cmd = new Command("tokenizer", "Train a byte-level BPE tokenizer on a corpus.");
        cmd.SetAction(_ => { Console.Error.WriteLine("codelm tokenizer: this stage has not landed yet; see the README for its status."); return 2; });
        return cmd;
    }
}
