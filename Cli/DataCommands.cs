using System.CommandLine;

namespace CodeLm.Cli;

public static class DataCommands
{
    public static Command Create()
    {
        var cmd = new Command("data", "Crawl repositories and clean them into a language-tagged, deduplicated corpus; tokenize it into shards.");
        CorpusCommands.AddTo(cmd);  // crawl, clean, build
        ShardCommands.AddTo(cmd);   // tokenize
        return cmd;
    }
}
