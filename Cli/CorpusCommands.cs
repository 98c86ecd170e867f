using System.CommandLine;

namespace CodeLm.Cli;

/// <summary>`codelm data crawl|clean|build`.</summary>
public static class CorpusCommands
{
    public static void AddTo(Command data)
    {
    }
}
