namespace Leasing;

/// <summary>
/// The retry delays of the library's polls (the pool's poller, the lock's acquire, the executor's
/// wait for an execution elsewhere and its completion retries): one jitter rule and one growth rule.
/// </summary>
internal static class Backoff
{
    /// <summary>A random delay between half of <paramref name="delay"/> and all of it, so replicas that retry together spread out.</summary>
    /// <param name="delay">The nominal delay.</param>
    /// <returns>The jittered delay.</returns>
    public static TimeSpan Jitter(TimeSpan delay) =>
        TimeSpan.FromTicks((long)(delay.Ticks * (0.5 + (Random.Shared.NextDouble() * 0.5))));

    /// <summary>The delay after <paramref name="delay"/>: twice as long, at most <paramref name="max"/>.</summary>
    /// <param name="delay">The delay just used.</param>
    /// <param name="max">The longest delay.</param>
    /// <returns>The next delay.</returns>
    public static TimeSpan Grow(TimeSpan delay, TimeSpan max) => delay * 2 < max ? delay * 2 : max;
}
