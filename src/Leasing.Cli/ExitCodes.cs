namespace Leasing.Cli;

/// <summary>The exit codes of the <c>leasing</c> command, as a shell user expects them.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and failed: a backend error, a record not found, a demo with violations.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong (unknown or invalid options), or a confirmation was needed and could not be asked.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C), as shells report SIGINT.</summary>
    public const int Interrupted = 130;
}
