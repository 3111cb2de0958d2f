namespace Leasing.Testing;

/// <summary>
/// Wraps a real store and, while <see cref="Down"/> is set, fails every call the way a backend
/// outage does (<see cref="LeaseStoreUnavailableException"/>), so tests can cut a holder off from
/// its backend. Counts calls per operation.
/// </summary>
public sealed class FlakyLeaseStore(ILeaseStore inner) : ILeaseStore
{
    private int _renews;
    private int _acquires;

    /// <summary>When true, every call throws <see cref="LeaseStoreUnavailableException"/>.</summary>
    public bool Down { get; set; }

    /// <summary>How many renew calls were made (up or down).</summary>
    public int Renews => Volatile.Read(ref _renews);

    /// <summary>How many single-key acquire calls were made (up or down).</summary>
    public int Acquires => Volatile.Read(ref _acquires);

    public ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _acquires);
        return Down ? Failed() : inner.TryAcquireAsync(key, ttl, cancellationToken);
    }

    public ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _renews);
        return Down ? Failed() : inner.RenewAsync(lease, ttl, cancellationToken);
    }

    public ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.ReleaseAsync(lease, cancellationToken);

    public ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.ReleaseWithCooldownAsync(lease, cooldown, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.InspectAsync(keys, cancellationToken);

    public ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.SetPoolMembersAsync(pool, members, version, cancellationToken);

    public ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.GetPoolMembersAsync(pool, cancellationToken);

    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        Down ? Failed() : inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, cancellationToken);

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        Down ? Failed() : inner.TryAcquirePoolMemberAsync(pool, member, ttl, cancellationToken);

    // Forwarded explicitly: the interface's default would drop the members-version check of the inner store.
    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) =>
        Down ? Failed() : inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, membersVersion, cancellationToken);

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) =>
        Down ? Failed() : inner.TryAcquirePoolMemberAsync(pool, member, ttl, membersVersion, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.InspectPoolAsync(pool, cancellationToken);

    public ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.ForceReleaseAsync(key, pool, cancellationToken);

    public ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.WriteStateAsync(lease, state, cancellationToken);

    public ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default) =>
        Down ? throw Outage() : inner.ReadStateAsync(key, pool, cancellationToken);

    private static ValueTask<Lease?> Failed() => ValueTask.FromException<Lease?>(Outage());

    private static LeaseStoreUnavailableException Outage() =>
        new("The lease store is unavailable (simulated outage).", new IOException("connection refused"));
}
