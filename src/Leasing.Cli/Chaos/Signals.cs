using System.Runtime.InteropServices;

namespace Leasing.Cli.Chaos;

/// <summary>POSIX signals the coordinator sends its workers: SIGSTOP to pause a holder past its lease, SIGCONT to wake it up.</summary>
internal static partial class Signals
{
    private const int SigKill = 9;
    private const int SigCont = 18;
    private const int SigStop = 19;

    public static void Kill(int pid) => Send(pid, SigKill);

    public static void Stop(int pid) => Send(pid, SigStop);

    public static void Continue(int pid) => Send(pid, SigCont);

    private static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            // The process is gone (ESRCH): nothing to pause or wake.
            _ = Marshal.GetLastPInvokeError();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
