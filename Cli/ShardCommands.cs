using System.CommandLine;

namespace CodeLm.Cli;

/// <summary>`codelm data tokenize`.</summary>
public static class ShardCommands
{
    public static void AddTo(Command data)
    {
    }
}
