namespace Leasing;

/// <summary>Why <see cref="DistributedLock.TryRunExclusiveAsync"/> did not run the work.</summary>
public enum LockSkipReason
{
    /// <summary>Another replica holds the lock (one round trip said so).</summary>
    LockHeld,

    /// <summary>Another caller in this process (on the same <see cref="DistributedLock"/>) holds or is taking the lock; no round trip was made.</summary>
    InProgressHere,
}
