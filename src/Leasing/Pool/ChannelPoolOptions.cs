namespace Leasing;

/// <summary>Options of a <see cref="ChannelPool"/>. Validated when the pool is created (and at start when registered in DI).</summary>
public sealed class ChannelPoolOptions
{
    /// <summary>The pool name: the namespace of the pool's keys. Required; a valid key.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The channel ids (pool members). Non-empty; duplicates are rejected.</summary>
    public IList<string> Channels { get; set; } = new List<string>();

    /// <summary>How long a lease lasts unless renewed.</summary>
    /// <value>Default 30 s; greater than zero and at most one day.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="ChannelPool.AcquireAsync"/> waits for a free channel.</summary>
    /// <value>Default 10 s; <see cref="TimeSpan.Zero"/> tries once; not negative.</value>
    public TimeSpan AcquireTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The default cooldown of <see cref="ChannelLease.ReleaseWithCooldownAsync"/>, for uncertain outcomes.</summary>
    /// <value>Default 1 s; greater than zero and at most one day.</value>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether leases renew themselves every <see cref="LeaseDuration"/>/3 until released.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool AutoRenew { get; set; } = true;

    /// <summary>The version of <see cref="Channels"/>. Bump it with the list so older replicas cannot revert it.</summary>
    /// <value>Default 0; not negative.</value>
    public long MembersVersion { get; set; }

    /// <summary>The first delay of the jittered, growing poll while every channel is busy.</summary>
    /// <value>Default 10 ms; greater than zero.</value>
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest delay of the poll while every channel is busy.</summary>
    /// <value>Default 500 ms; at least <see cref="RetryMinDelay"/>.</value>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How many acquires the pool keeps in flight at once for the callers of <see cref="ChannelPool.AcquireAsync"/>
    /// waiting in this process (never more than are waiting). Each release (in this process, or announced
    /// by the backend) starts one acquire for the next waiter; each grant starts one more while
    /// waiters remain, so throughput under contention is not capped at one round trip at a time. Grants
    /// still go to waiters in arrival order.
    /// </summary>
    /// <value>Default 8; between 1 and 256 (1: one acquire at a time).</value>
    public int MaxAcquiresInFlight { get; set; } = 8;

    /// <summary>
    /// How long <see cref="ChannelPool.AcquireAsync"/> rides through a backend outage: shorter outages
    /// only delay grants (the pool keeps retrying); when the backend stays unreachable this long, the
    /// waiters fail with <see cref="LeaseStoreUnavailableException"/> (the last error inside). Never
    /// past a caller's <see cref="AcquireTimeout"/>. <see cref="ChannelPool.TryAcquireAsync"/> tries once
    /// and reports an outage at once.
    /// </summary>
    /// <value>Default 2 s; not negative (zero: the first failed round trip fails the waiters).</value>
    public TimeSpan OutageTolerance { get; set; } = TimeSpan.FromSeconds(2);
}
