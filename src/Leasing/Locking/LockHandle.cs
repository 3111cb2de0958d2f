namespace Leasing;

/// <summary>
/// A held <see cref="DistributedLock"/>: the caller is the single writer for <see cref="Key"/> until it
/// releases (or disposes) the handle. Pass <see cref="FencingToken"/> to what the work writes and stop
/// the work when <see cref="LeaseLost"/> fires.
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly DistributedLock _owner;
    private readonly LeaseMonitor _monitor;
    private int _released;

    internal LockHandle(DistributedLock owner, LeaseMonitor monitor, LockHolder holder)
    {
        _owner = owner;
        _monitor = monitor;
        Holder = holder;
    }

    /// <summary>The locked key.</summary>
    public string Key => _monitor.Lease.Key;

    /// <summary>The fencing token of this lock: greater than every token issued before for the key.</summary>
    public long FencingToken => _monitor.Lease.FencingToken;

    /// <summary>
    /// Cancelled when a renewal finds the lease lost (taken away), or when the local deadline (last
    /// confirmed renew + lease duration - a margin) passes unconfirmed: stop the work then.
    /// </summary>
    public CancellationToken LeaseLost => _monitor.LeaseLost;

    internal LockHolder Holder { get; }

    internal LeaseMonitor Monitor => _monitor;

    /// <summary>Stops renewing and releases the lock.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when released; <see langword="false"/> when it was no longer ours or was already released.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached; the lease expires on its own.</exception>
    public async ValueTask<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return false;
        }

        return await _owner.ReleaseAsync(this, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the lock if still held; idempotent. A failure to reach the backend is logged, and the lease then expires on its own.</summary>
    /// <returns>A task that completes when the lock is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _released) != 0)
        {
            return;
        }

        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is LeaseStoreUnavailableException or OperationCanceledException or TimeoutException)
        {
            _owner.OnReleaseAtDisposeFailed(this, e);
        }
    }

    /// <summary>Describes the lock without its owner token.</summary>
    /// <returns>The key, fencing token and expiry.</returns>
    public override string ToString() => _monitor.Lease.ToString();
}
