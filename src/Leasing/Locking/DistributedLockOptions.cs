namespace Leasing;

/// <summary>Options of a <see cref="DistributedLock"/>. Validated when the lock is created (and at start when registered in DI).</summary>
public sealed class DistributedLockOptions
{
    /// <summary>How long a lock's lease lasts unless renewed; it is renewed every LeaseDuration/3 while held.</summary>
    /// <value>Default 30 s; greater than zero and at most one day.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first delay of the jittered, growing poll of <see cref="DistributedLock.AcquireAsync"/> while another replica holds the key.</summary>
    /// <value>Default 10 ms; greater than zero.</value>
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest delay of that poll.</summary>
    /// <value>Default 500 ms; at least <see cref="RetryMinDelay"/>.</value>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long <see cref="DistributedLock.AcquireAsync"/> rides through a backend outage: it keeps
    /// polling, and fails with <see cref="LeaseStoreUnavailableException"/> (the last error inside) only
    /// when the backend stays unreachable this long (never past the call's timeout).
    /// <see cref="DistributedLock.TryAcquireAsync"/> tries once and reports an outage at once.
    /// </summary>
    /// <value>Default 2 s; between zero and one day.</value>
    public TimeSpan OutageTolerance { get; set; } = TimeSpan.FromSeconds(2);
}
