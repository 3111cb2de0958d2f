namespace Leasing;

/// <summary>
/// Lets a <see cref="LeaseMonitor"/> keep an idempotency claim alive: its renewals become
/// <see cref="IIdempotencyStore.HeartbeatAsync"/> calls (the lease's token is the owner token), so
/// the claim gets the same heartbeat, local deadline and lost signal as every lease. Only renewal
/// is ever called.
/// </summary>
internal sealed class ClaimHeartbeatStore(IIdempotencyStore store, Execution execution, TimeProvider time) : ILeaseStore
{
    public async ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        if (!await store.HeartbeatAsync(lease.Key, lease.Token, ttl, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        // The backend does not say its new expiry; the local estimate serves RetryAfter hints only.
        var estimate = time.GetUtcNow() + ttl;
        execution.ExtendLease(estimate);
        return lease with { ExpiresAt = estimate };
    }

    public ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) => throw NotUsed();

    public ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default) => throw NotUsed();

    private static NotSupportedException NotUsed() => new("A claim heartbeat only renews.");
}
