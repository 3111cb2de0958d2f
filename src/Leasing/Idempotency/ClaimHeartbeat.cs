namespace Leasing;

/// <summary>
/// Lets a <see cref="LeaseMonitor"/> keep an idempotency claim alive: its renewals become
/// <see cref="IIdempotencyStore.HeartbeatAsync"/> calls (the lease's token is the owner token), so
/// the claim gets the same heartbeat, local deadline and lost signal as every lease.
/// </summary>
/// <param name="store">The idempotency store holding the claim.</param>
/// <param name="execution">The execution whose lease estimate each heartbeat moves.</param>
/// <param name="time">The clock of that estimate.</param>
internal sealed class ClaimHeartbeat(IIdempotencyStore store, Execution execution, TimeProvider time) : ILeaseRenewer
{
    /// <inheritdoc />
    public async ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken)
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
}
