namespace CodeLm.Cli;

/// <summary>The one table of codelm's exit codes (README.md lists them for users).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Bad input or a failed stage: one line on stderr says what and how to fix it.</summary>
    public const int Failed = 1;
    /// <summary>`codelm data`: some repositories failed, the corpus was still built from the rest. `codelm eval`: some problem lines could not be read, the rest were scored.</summary>
    public const int PartialFailure = 2;
    /// <summary>`codelm train`: the loss became NaN or infinite; the last good checkpoint is kept.</summary>
    public const int Diverged = 3;
    /// <summary>Ctrl+C (128 + SIGINT, as shells report it); finished work is kept.</summary>
    public const int Cancelled = 130;
}
