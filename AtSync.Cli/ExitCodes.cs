namespace AtSync.Cli;

/// <summary>What <c>atsync</c> exits with, for scripts (README.md, "Operator command").</summary>
public static class ExitCodes
{
    /// <summary>Done; for <c>doctor</c>: every check passed (warnings allowed).</summary>
    public const int Ok = 0;

    /// <summary>The command ran but its answer is "no": a check failed, nothing matched, a token did not decrypt.</summary>
    public const int Failed = 1;

    /// <summary>Invalid command line or settings (the same code the services stop with).</summary>
    public const int Usage = 2;

    /// <summary>The database could not be reached or its schema is not current.</summary>
    public const int Unavailable = 3;
}
