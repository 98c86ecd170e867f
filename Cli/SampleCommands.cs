using System.CommandLine;

namespace CodeLm.Cli;

public static class SampleCommands
{
    public static Command Create()
    {
        var cmd = new Command("sample", "Generate a completion (or fill-in-the-middle) from a checkpoint.");
        cmd.SetAction(_ => { Console.Error.WriteLine("codelm sample: this stage has not landed yet; see the README for its status."); return 2; });
        return cmd;
    }
}
