using System.CommandLine;

namespace CodeLm.Cli;

public static class TrainCommands
{
    public static Command Create()
    {
        var cmd = new Command("train", "Pretrain a GPT code model on token shards.");
        cmd.SetAction(_ => { Console.Error.WriteLine("codelm train: this stage has not landed yet; see the README for its status."); return 2; });
        return cmd;
    }
}
