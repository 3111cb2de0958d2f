namespace Leasing.Benchmarks.Baselines;

/// <summary>The constants of the seed design the baselines reproduce, so the ratios compare against what ran in production.</summary>
internal static class SeedConstants
{
    /// <summary>Per-candidate claim lock of the read-all-then-claim pool.</summary>
    public static readonly TimeSpan ClaimLock = TimeSpan.FromSeconds(3);

    /// <summary>Tries of the read-all-then-claim pool before it gives up.</summary>
    public const int ClaimTries = 30;

    /// <summary>The global pool mutex of the global-mutex pool.</summary>
    public static readonly TimeSpan GlobalMutex = TimeSpan.FromSeconds(1);

    /// <summary>The in-use lease of a channel (the pool's default lease duration).</summary>
    public static readonly TimeSpan InUse = TimeSpan.FromSeconds(30);

    /// <summary>How long the global-mutex pool waits for the mutex before it gives up (the pool's default acquire timeout).</summary>
    public static readonly TimeSpan AcquireTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Jittered pause between tries: 10-30 ms.</summary>
    public static TimeSpan Jitter() => TimeSpan.FromMilliseconds(Random.Shared.Next(10, 31));
}
