namespace Leasing.Testing;

/// <summary>
/// Wraps a real store and injects the faults of a network between the app and its backend:
/// <see cref="Down"/> fails every call without reaching the backend (an outage), and
/// <see cref="HoldReplies"/> lets every acquire run on the backend and then holds its reply until the
/// gate opens (a late reply: the command ran, the caller may have given up meanwhile);
/// <see cref="HoldStatusReads"/> does the same for pool status reads. The hold honours the token
/// the library passed, as a driver's await would.
/// </summary>
public sealed class FaultyLeaseStore(ILeaseStore inner) : ILeaseStore, ILeaseReleaseSource
{
    private readonly TaskCompletionSource<Lease?> _firstHeldGrant = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failures;
    private int _acquires;
    private int _renewals;
    private int _held;
    private int _handOffs;
    private int _statusReads;
    private int _statusReadsCancelled;
    private readonly TaskCompletionSource _firstHeldStatusRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstCancelledStatusRead = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, runs after a release-and-acquire call returned from the backend, before its reply reaches the caller (e.g. a clock jump: a reply that comes late).</summary>
    public Action? AfterHandOff { get; set; }

    /// <summary>How many release-and-acquire calls were made (forwarded as one call; <see cref="HoldReplies"/> does not hold them).</summary>
    public int HandOffs => Volatile.Read(ref _handOffs);

    /// <summary>When true, every call throws <see cref="LeaseStoreUnavailableException"/> without reaching the backend.</summary>
    public bool Down { get; set; }

    /// <summary>When set, every acquire's reply waits for this task after the backend answered.</summary>
    public Task? HoldReplies { get; set; }

    /// <summary>As <see cref="HoldReplies"/>, for the replies that granted only (busy replies pass at once).</summary>
    public Task? HoldGrants { get; set; }

    /// <summary>When set, every acquire waits for this task without reaching the backend, then fails as an outage (a command that stalls, then times out).</summary>
    public Task? StallThenFail { get; set; }

    /// <summary>When set, every renewal waits for this task (honouring the caller's token) before it reaches the backend.</summary>
    public Task? StallRenewals { get; set; }

    /// <summary>How many acquire replies are being held right now (acquires that ran on the backend and wait at the gate).</summary>
    public int HeldNow => Volatile.Read(ref _held);

    /// <summary>How many renewals were sent.</summary>
    public int Renewals => Volatile.Read(ref _renewals);

    /// <summary>Completes with the first acquire result that ran on the backend while replies were held.</summary>
    public Task<Lease?> FirstHeldGrant => _firstHeldGrant.Task;

    /// <summary>When set, every pool status read (<see cref="InspectPoolAsync"/>) runs on the backend, then holds its reply until this task completes.</summary>
    public Task? HoldStatusReads { get; set; }

    /// <summary>How many pool status reads were made (up or down).</summary>
    public int StatusReads => Volatile.Read(ref _statusReads);

    /// <summary>How many held status reads were cancelled by the token the library passed.</summary>
    public int StatusReadsCancelled => Volatile.Read(ref _statusReadsCancelled);

    /// <summary>Completes when the first status read has run on the backend and waits at <see cref="HoldStatusReads"/>.</summary>
    public Task FirstHeldStatusRead => _firstHeldStatusRead.Task;

    /// <summary>Completes when the first held status read was cancelled by the token the library passed.</summary>
    public Task FirstCancelledStatusRead => _firstCancelledStatusRead.Task;

    /// <summary>How many acquire calls were made (any kind, faulty or not).</summary>
    public int Acquires => Volatile.Read(ref _acquires);

    /// <summary>How many calls failed because the store was <see cref="Down"/>.</summary>
    public int Failures => Volatile.Read(ref _failures);

    public ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        AcquireAsync(() => inner.TryAcquireAsync(key, ttl, cancellationToken), cancellationToken);

    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        AcquireAsync(() => inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, cancellationToken), cancellationToken);

    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) =>
        AcquireAsync(() => inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, membersVersion, cancellationToken), cancellationToken);

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        AcquireAsync(() => inner.TryAcquirePoolMemberAsync(pool, member, ttl, cancellationToken), cancellationToken);

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) =>
        AcquireAsync(() => inner.TryAcquirePoolMemberAsync(pool, member, ttl, membersVersion, cancellationToken), cancellationToken);

    public async ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _renewals);
        if (StallRenewals is { } stall)
        {
            await stall.WaitAsync(cancellationToken);
        }

        return Down ? throw Outage() : await inner.RenewAsync(lease, ttl, cancellationToken);
    }

    public ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<bool>(Outage()) : inner.ReleaseAsync(lease, cancellationToken);

    public ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<bool>(Outage()) : inner.ReleaseWithCooldownAsync(lease, cooldown, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<IReadOnlyList<LeaseState>>(Outage()) : inner.InspectAsync(keys, cancellationToken);

    public ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException(Outage()) : inner.SetPoolMembersAsync(pool, members, version, cancellationToken);

    public ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<IReadOnlyList<string>>(Outage()) : inner.GetPoolMembersAsync(pool, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _statusReads);
        if (Down)
        {
            return ValueTask.FromException<IReadOnlyList<LeaseState>>(Outage());
        }

        return HoldStatusReads is { } hold ? HeldInspectPoolAsync(pool, hold, cancellationToken) : inner.InspectPoolAsync(pool, cancellationToken);
    }

    public ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<bool>(Outage()) : inner.ForceReleaseAsync(key, pool, cancellationToken);

    /// <summary>Forwards the inner store's release announcements (another instance's releases wake pools over this store).</summary>
    public ValueTask<IAsyncDisposable> SubscribeToReleasesAsync(string pool, Action onReleased, CancellationToken cancellationToken = default) =>
        inner is ILeaseReleaseSource source
            ? source.SubscribeToReleasesAsync(pool, onReleased, cancellationToken)
            : ValueTask.FromException<IAsyncDisposable>(new NotSupportedException("The inner store announces no releases."));

    public async ValueTask<ReleaseAndAcquireResult> ReleaseAndAcquireLeastRecentlyUsedAsync(Lease lease, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _handOffs);
        if (Down)
        {
            throw Outage();
        }

        var result = await inner.ReleaseAndAcquireLeastRecentlyUsedAsync(lease, ttl, membersVersion, cancellationToken);
        AfterHandOff?.Invoke();
        return result;
    }

    public ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<bool>(Outage()) : inner.WriteStateAsync(lease, state, cancellationToken);

    public ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<LeaseStateValue?>(Outage()) : inner.ReadStateAsync(key, pool, cancellationToken);

    private async ValueTask<IReadOnlyList<LeaseState>> HeldInspectPoolAsync(string pool, Task hold, CancellationToken cancellationToken)
    {
        var states = await inner.InspectPoolAsync(pool, cancellationToken);
        _firstHeldStatusRead.TrySetResult();
        try
        {
            await hold.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _statusReadsCancelled);
            _firstCancelledStatusRead.TrySetResult();
            throw;
        }

        return states;
    }

    private async ValueTask<Lease?> AcquireAsync(Func<ValueTask<Lease?>> acquire, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _acquires);
        if (StallThenFail is { } stall)
        {
            await stall;
            throw Outage();
        }

        if (Down)
        {
            throw Outage();
        }

        var hold = HoldReplies;
        var lease = await acquire();

        // Read when the reply arrives: a grant that was in flight when the gate was set is held too.
        hold ??= lease is null ? null : HoldGrants;
        if (hold is not null)
        {
            _firstHeldGrant.TrySetResult(lease);
            Interlocked.Increment(ref _held);
            try
            {
                await hold.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _held);
            }
        }

        return lease;
    }

    private LeaseStoreUnavailableException Outage()
    {
        Interlocked.Increment(ref _failures);
        return new LeaseStoreUnavailableException("The lease store is unavailable (simulated outage).", new IOException("connection refused"));
    }
}
