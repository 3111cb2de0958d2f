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
/// which <see cref="InspectAsync"/> reports them as never acquired (fencing token 0).</para>
/// <para>Release notifications (<see cref="ILeaseReleaseSource"/>) reach subscribers in this process
/// on release, force release, and the end of a cooldown; not when a lease simply expires.</para>
/// </remarks>
public sealed class InMemoryLeaseStore : ILeaseStore, ILeaseReleaseSource
{
    private readonly TimeProvider time;
    private readonly KeyTable keys;
    private readonly ConcurrentDictionary<string, PoolState> pools = new(StringComparer.Ordinal);

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The backend clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public InMemoryLeaseStore(TimeProvider? timeProvider = null)
    {
        time = timeProvider ?? TimeProvider.System;
        keys = new KeyTable(time);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Lease?>(cancellationToken);
        }

        return new ValueTask<Lease?>(keys.TryAcquire(key, ttl));
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Lease?>(cancellationToken);
        }

        return new ValueTask<Lease?>(lease.Pool is null ? keys.Renew(lease, ttl) : FindPool(lease.Pool)?.Renew(lease, ttl));
    }

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return new ValueTask<bool>(lease.Pool is null ? keys.Release(lease) : FindPool(lease.Pool)?.Release(lease) ?? false);
    }

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidTtl(cooldown, nameof(cooldown));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return new ValueTask<bool>(lease.Pool is null
            ? keys.ReleaseWithCooldown(lease, cooldown)
            : FindPool(lease.Pool)?.ReleaseWithCooldown(lease, cooldown) ?? false);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKeys(keys, nameof(keys));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IReadOnlyList<LeaseState>>(cancellationToken);
        }

        var states = new LeaseState[keys.Count];
        for (var i = 0; i < states.Length; i++)
        {
            states[i] = this.keys.Inspect(keys[i]);
        }

        return new ValueTask<IReadOnlyList<LeaseState>>(states);
    }

    /// <inheritdoc/>
    public ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidMembers(members, nameof(members));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        GetOrAddPool(pool).SetMembers(members, version);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IReadOnlyList<string>>(cancellationToken);
        }

        return new ValueTask<IReadOnlyList<string>>(FindPool(pool)?.GetMembers() ?? []);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        AcquireLeastRecentlyUsed(pool, ttl, PoolState.AnyVersion, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(membersVersion);
        return AcquireLeastRecentlyUsed(pool, ttl, membersVersion, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        AcquirePoolMember(pool, member, ttl, PoolState.AnyVersion, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(membersVersion);
        return AcquirePoolMember(pool, member, ttl, membersVersion, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IReadOnlyList<LeaseState>>(cancellationToken);
        }

        return new ValueTask<IReadOnlyList<LeaseState>>(FindPool(pool)?.Inspect() ?? []);
    }

    /// <inheritdoc/>
    public ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        if (pool is not null)
        {
            LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return new ValueTask<bool>(pool is null ? keys.ForceRelease(key) : FindPool(pool)?.ForceRelease(key) ?? false);
    }

    /// <inheritdoc/>
    public ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidLease(lease, nameof(lease));
        LeaseArguments.ThrowIfInvalidState(state, nameof(state));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return new ValueTask<bool>(lease.Pool is null ? keys.WriteState(lease, state) : FindPool(lease.Pool)?.WriteState(lease, state) ?? false);
    }

    /// <inheritdoc/>
    public ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        if (pool is not null)
        {
            LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LeaseStateValue?>(cancellationToken);
        }

        return new ValueTask<LeaseStateValue?>(pool is null ? keys.ReadState(key) : FindPool(pool)?.ReadState(key));
    }

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
    internal int SingleKeyEntryCount => keys.Count;

    /// <summary>Sizes of a pool's free and expiry indexes (tests of membership changes).</summary>
    internal (int Free, int Busy) PoolIndexSizes(string pool) => FindPool(pool)?.IndexSizes ?? (0, 0);

    private ValueTask<Lease?> AcquireLeastRecentlyUsed(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Lease?>(cancellationToken);
        }

        PoolMembersOutdatedException? outdated;
        var lease = FindPool(pool) is { } state ? state.TryAcquireLeastRecentlyUsed(ttl, membersVersion, out outdated) : Unknown(pool, membersVersion, out outdated);
        return Answer(lease, outdated);
    }

    private ValueTask<Lease?> AcquirePoolMember(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        LeaseArguments.ThrowIfInvalidKey(member, nameof(member));
        LeaseArguments.ThrowIfInvalidTtl(ttl, nameof(ttl));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Lease?>(cancellationToken);
        }

        PoolMembersOutdatedException? outdated;
        var lease = FindPool(pool) is { } state ? state.TryAcquireMember(member, ttl, membersVersion, out outdated) : Unknown(pool, membersVersion, out outdated);
        return Answer(lease, outdated);
    }

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

    private PoolState? FindPool(string pool) => pools.TryGetValue(pool, out var state) ? state : null;

    private PoolState GetOrAddPool(string pool) =>
        pools.TryGetValue(pool, out var state) ? state : pools.GetOrAdd(pool, static (name, time) => new PoolState(name, time), time);
}
