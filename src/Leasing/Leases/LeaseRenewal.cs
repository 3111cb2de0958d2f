using Microsoft.Extensions.Logging;

namespace Leasing;

/// <summary>
/// The one call a <see cref="LeaseMonitor"/> makes: renew a lease it watches. A lease store renews
/// its leases (<see cref="StoreRenewer"/>); an idempotency claim renews by heartbeat
/// (<see cref="ClaimHeartbeat"/>).
/// </summary>
internal interface ILeaseRenewer
{
    /// <summary>Extends the lease to backend now + <paramref name="ttl"/> if it is still held.</summary>
    /// <param name="lease">The lease.</param>
    /// <param name="ttl">The new time to live.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The renewed lease, or <see langword="null"/> when it is no longer held.</returns>
    ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken);
}

/// <summary>Renews through a lease store (one per pool or lock, shared by its handles).</summary>
/// <param name="store">The store that granted the leases.</param>
internal sealed class StoreRenewer(ILeaseStore store) : ILeaseRenewer
{
    /// <inheritdoc />
    public ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken) => store.RenewAsync(lease, ttl, cancellationToken);
}

/// <summary>How the monitors of one pool, lock or executor watch their leases (one instance per owner, shared by its monitors).</summary>
/// <param name="Ttl">The ttl the leases are granted with (and renewed with).</param>
/// <param name="AutoRenew">Whether to renew every ttl/3.</param>
/// <param name="Time">The clock.</param>
/// <param name="Logger">The logger.</param>
/// <param name="Tags">The metric tags (pool and backend).</param>
internal sealed record LeaseMonitorSettings(TimeSpan Ttl, bool AutoRenew, TimeProvider Time, ILogger Logger, KeyValuePair<string, object?>[] Tags);
