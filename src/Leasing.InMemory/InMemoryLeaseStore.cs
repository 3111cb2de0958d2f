using System.Collections.Concurrent;
using Leasing.InMemory.Keys;
using Leasing.InMemory.Pools;

namespace Leasing.InMemory;

/// <summary>
/// A process-local <see cref="ILeaseStore"/> with the exact semantics of the distributed backends,
/// driven by a <see cref="TimeProvider"/> (so tests can use a fake clock). Thread-safe; for tests,
/// single-process apps, and as the embedded default.
/// </summary>
/// <remarks>
/// <para>The backend clock is the <see cref="TimeProvider"/>: expiry, <see cref="Lease.ExpiresAt"/>
/// and fencing tokens come from it. Every call completes synchronously and never reports an outage.</para>
/// <para>Pools keep free members in an index ordered by a per-pool acquisition sequence (strict
/// least-recently-acquired order, independent of the clock) and held or cooling members in an index
/// ordered by expiry, so an acquire costs O(log N) whatever the pool size or fullness. Members that
/// were never acquired come first, in ordinal order of their ids.</para>
/// <para>Memory: pool members, including removed ones, are kept with their fencing counters. Single
/// keys that are free are dropped now and then once their fencing token is behind the clock, after
/// which <see cref="LeaseStore.InspectAsync"/> reports them as never acquired (fencing token 0).</para>
/// <para>Release notifications (<see cref="ILeaseReleaseSource"/>) reach subscribers in this process
/// on release, force release, and the end of a cooldown; not when a lease simply expires.</para>
/// </remarks>
public sealed class InMemoryLeaseStore : LeaseStore, ILeaseReleaseSource
{
    private readonly TimeProvider _time;
    private readonly KeyTable _keys;
    private readonly ConcurrentDictionary<string, PoolState> _pools = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string BackendName => "memory";

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The backend clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public InMemoryLeaseStore(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _keys = new KeyTable(_time);
    }

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquireCoreAsync(string key, TimeSpan ttl, CancellationToken cancellationToken) =>
        new(_keys.TryAcquire(key, ttl));

    /// <inheritdoc/>
    protected override ValueTask<Lease?> RenewCoreAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken) =>
        new(lease.Pool is null ? _keys.Renew(lease, ttl) : FindPool(lease.Pool)?.Renew(lease, ttl));

    /// <inheritdoc/>
    protected override ValueTask<bool> ReleaseCoreAsync(Lease lease, CancellationToken cancellationToken) =>
        new(lease.Pool is null ? _keys.Release(lease) : FindPool(lease.Pool)?.Release(lease) ?? false);

    /// <inheritdoc/>
    protected override ValueTask<bool> ReleaseWithCooldownCoreAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken) =>
        new(lease.Pool is null
            ? _keys.ReleaseWithCooldown(lease, cooldown)
            : FindPool(lease.Pool)?.ReleaseWithCooldown(lease, cooldown) ?? false);

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<LeaseState>> InspectCoreAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var states = new LeaseState[keys.Count];
        for (var i = 0; i < states.Length; i++)
        {
            states[i] = _keys.Inspect(keys[i]);
        }

        return new ValueTask<IReadOnlyList<LeaseState>>(states);
    }

    /// <inheritdoc/>
    protected override ValueTask SetPoolMembersCoreAsync(string pool, IReadOnlyCollection<string> members, long version, CancellationToken cancellationToken)
    {
        GetOrAddPool(pool).SetMembers(members, version);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<string>> GetPoolMembersCoreAsync(string pool, CancellationToken cancellationToken) =>
        new ValueTask<IReadOnlyList<string>>(FindPool(pool)?.GetMembers() ?? []);

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken) =>
        TryAcquireLeastRecentlyUsedCoreAsync(pool, ttl, PoolState.AnyVersion, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        PoolMembersOutdatedException? outdated;
        var lease = FindPool(pool) is { } state ? state.TryAcquireLeastRecentlyUsed(ttl, membersVersion, out outdated) : Unknown(pool, membersVersion, out outdated);
        return Answer(lease, outdated);
    }

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken) =>
        TryAcquirePoolMemberCoreAsync(pool, member, ttl, PoolState.AnyVersion, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        PoolMembersOutdatedException? outdated;
        var lease = FindPool(pool) is { } state ? state.TryAcquireMember(member, ttl, membersVersion, out outdated) : Unknown(pool, membersVersion, out outdated);
        return Answer(lease, outdated);
    }

    /// <inheritdoc/>
    protected override ValueTask<IReadOnlyList<LeaseState>> InspectPoolCoreAsync(string pool, CancellationToken cancellationToken) =>
        new ValueTask<IReadOnlyList<LeaseState>>(FindPool(pool)?.Inspect() ?? []);

    /// <inheritdoc/>
    protected override ValueTask<bool> ForceReleaseCoreAsync(string key, string? pool, CancellationToken cancellationToken) =>
        new(pool is null ? _keys.ForceRelease(key) : FindPool(pool)?.ForceRelease(key) ?? false);

    /// <inheritdoc/>
    protected override ValueTask<bool> WriteStateCoreAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken) =>
        new(lease.Pool is null ? _keys.WriteState(lease, state) : FindPool(lease.Pool)?.WriteState(lease, state) ?? false);

    /// <inheritdoc/>
    protected override ValueTask<LeaseStateValue?> ReadStateCoreAsync(string key, string? pool, CancellationToken cancellationToken) =>
        new(pool is null ? _keys.ReadState(key) : FindPool(pool)?.ReadState(key));

    /// <inheritdoc/>
    /// <remarks>In process only: called on release, force release and when a cooldown ends. Costs nothing while nobody subscribes.</remarks>
    public ValueTask<IAsyncDisposable> SubscribeToReleasesAsync(string pool, Action onReleased, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        ArgumentNullException.ThrowIfNull(onReleased);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IAsyncDisposable>(cancellationToken);
        }

        return new ValueTask<IAsyncDisposable>(GetOrAddPool(pool).Subscribe(onReleased));
    }

    /// <summary>Single-key entries currently stored (tests of the sweep).</summary>
    internal int SingleKeyEntryCount => _keys.Count;

    /// <summary>Sizes of a pool's free and expiry indexes (tests of membership changes).</summary>
    internal (int Free, int Busy) PoolIndexSizes(string pool) => FindPool(pool)?.IndexSizes ?? (0, 0);

    // A pool this store never saw: nothing to claim, and outdated for any versioned acquire.
    private static Lease? Unknown(string pool, long membersVersion, out PoolMembersOutdatedException? outdated)
    {
        outdated = membersVersion == PoolState.AnyVersion ? null : new PoolMembersOutdatedException(pool, null, membersVersion);
        return null;
    }

    // An outdated member list fails the returned task, as on the server backends, rather than the call
    // itself: callers that do not await at once (or call through reflection) see the same exception.
    private static ValueTask<Lease?> Answer(Lease? lease, PoolMembersOutdatedException? outdated) =>
        outdated is null ? new ValueTask<Lease?>(lease) : ValueTask.FromException<Lease?>(outdated);

    private PoolState? FindPool(string pool) => _pools.TryGetValue(pool, out var state) ? state : null;

    private PoolState GetOrAddPool(string pool) =>
        _pools.TryGetValue(pool, out var state) ? state : _pools.GetOrAdd(pool, static (name, time) => new PoolState(name, time), _time);
}
