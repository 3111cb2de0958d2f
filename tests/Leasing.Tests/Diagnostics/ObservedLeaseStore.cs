using Microsoft.Extensions.Time.Testing;

namespace Leasing.Tests.Diagnostics;

/// <summary>
/// Wraps a store: counts status reads (so a test can prove the gauges never call the backend per
/// scrape) and, when <see cref="RoundTrip"/> is set, lets fake time pass during each pool acquire,
/// as a real round trip would.
/// </summary>
internal sealed class ObservedLeaseStore(ILeaseStore inner, FakeTimeProvider time) : ILeaseStore
{
    private int _inspects;

    public int PoolInspections => Volatile.Read(ref _inspects);

    public TimeSpan RoundTrip { get; set; }

    /// <summary>When set, InspectAsync never answers (a backend that hangs), whatever the cancellation token says.</summary>
    public bool Hang { get; set; }

    public ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.TryAcquireAsync(key, ttl, cancellationToken);

    public ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.RenewAsync(lease, ttl, cancellationToken);

    public ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default) => inner.ReleaseAsync(lease, cancellationToken);

    public ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default) => inner.ReleaseWithCooldownAsync(lease, cooldown, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        Hang ? new(new TaskCompletionSource<IReadOnlyList<LeaseState>>().Task) : inner.InspectAsync(keys, cancellationToken);

    public ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default) => inner.SetPoolMembersAsync(pool, members, version, cancellationToken);

    public ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default) => inner.GetPoolMembersAsync(pool, cancellationToken);

    public async ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        PassRoundTrip();
        return await inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, cancellationToken);
    }

    // Forwarded explicitly: the interface's default would drop the members-version check of the inner store.
    public async ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        PassRoundTrip();
        return await inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, membersVersion, cancellationToken);
    }

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) => inner.TryAcquirePoolMemberAsync(pool, member, ttl, membersVersion, cancellationToken);

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.TryAcquirePoolMemberAsync(pool, member, ttl, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _inspects);
        return inner.InspectPoolAsync(pool, cancellationToken);
    }

    public ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default) => inner.ForceReleaseAsync(key, pool, cancellationToken);

    public ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) => inner.WriteStateAsync(lease, state, cancellationToken);

    public ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default) => inner.ReadStateAsync(key, pool, cancellationToken);

    private void PassRoundTrip()
    {
        if (RoundTrip > TimeSpan.Zero)
        {
            time.Advance(RoundTrip);
        }
    }
}
