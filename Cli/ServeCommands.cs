using System.CommandLine;

namespace CodeLm.Cli;

public static class ServeCommands
{
    public static Command Create()
    {
        var cmd = new Command("serve", "Serve inline completions over the Language Server Protocol (stdio).");
        cmd.SetAction(_ => { Console.Error.WriteLine("codelm serve: this stage has not landed yet; see the README for its status."); return 2; });
        return cmd;
    }
}
