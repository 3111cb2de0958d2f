using System.Runtime.CompilerServices;

namespace Leasing.Testing;

/// <summary>Names unique per test and run, so tests on a shared server never see each other's keys.</summary>
public static class Unique
{
    /// <summary>A name made of the calling test's name and a random suffix.</summary>
    public static string Name(string? suffix = null, [CallerMemberName] string caller = "") =>
        $"{caller}-{suffix}{Guid.NewGuid():N}"[..Math.Min(caller.Length + (suffix?.Length ?? 0) + 33, 200)];
}
