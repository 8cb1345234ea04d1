using System.Runtime.InteropServices;

namespace AtSync.Tests.Deployment.Live;

/// <summary>POSIX signals and the effective user, for the processes the deployment test starts or crashes.</summary>
public static partial class Signals
{
    public const int Term = 15;
    public const int Kill = 9;

    public static bool IsRoot => GetEffectiveUserId() == 0;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when no such process or not allowed.</summary>
    public static bool Send(int pid, int signal) => SendSignal(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
