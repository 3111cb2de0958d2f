using System.Collections.Concurrent;
using System.Globalization;
using Leasing.Internal;
using Leasing.Redis.Internal;
using StackExchange.Redis;

namespace Leasing.Redis;

/// <summary>
/// An <see cref="ILeaseStore"/> on Redis (StackExchange.Redis, one shared <see cref="IConnectionMultiplexer"/>).
/// Every operation is one round trip: a Lua script run with EVALSHA on the server's clock (<c>TIME</c>),
/// or a plain HMGET for a state read; a member list is written in scripts of 1,000 members. Scripts
/// are loaded on first use and again after a server restart (NOSCRIPT).
/// </summary>
/// <remarks>
/// <para>Keys start with <c>{KeyPrefix}:v1:</c> (pools: <c>{KeyPrefix}:v2:</c>). A pool's keys share
/// one hash tag, so its scripts work on Redis Cluster; pool names and keys are escaped so that no
/// id can pick a slot, read as a glob, or run into another key. A pool keeps its members in one
/// sorted set: free ones ordered by their last fencing token, which grows across the whole pool
/// (strict least-recently-acquired order), ahead of held or cooling ones ordered by expiry, which
/// acquire takes back once the earliest end may have passed: an acquire costs O(log N) whatever
/// the pool's size or fullness. A pool member's last acquisition time is its fencing token read
/// as server time (the two differ only if the server clock steps back).</para>
/// <para>Mutual exclusion needs one primary with <c>maxmemory-policy noeviction</c>. A failover or
/// a restart without persistence can let two holders overlap for up to one renewal interval; the
/// fencing token (max(stored + 1, server clock in µs)) still grows then, so a fenced downstream
/// rejects the older holder. <see cref="RedisLeasingOptions.WaitForReplicas"/> narrows the window.
/// Such a restart also loses pool member lists and their versions: the pool acquires that take a
/// members version report it (<see cref="PoolMembersOutdatedException"/>, in the acquire script
/// itself), so <see cref="ChannelPool"/> writes its list again at once.</para>
/// <para>Releases of pool members are published on one channel per pool (<see cref="ILeaseReleaseSource"/>),
/// so waiting <see cref="ChannelPool"/> instances in other processes wake at once. Expiries and the
/// ends of cooldowns are not announced (Redis has no timer): waiters find them by polling.</para>
/// <para>Redis cannot cancel a command in flight: a call cancelled by its token may still take
/// effect on the server (an acquired lease then expires on its own).</para>
/// </remarks>
public sealed class RedisLeaseStore : LeaseStore, ILeaseReleaseSource
{
    private const int MembersPerCall = 1000;

    // The members version the unversioned pool acquires pass to the scripts: no check.
    private const long AnyVersion = -1;

    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly RedisKeyNames _names;
    private readonly TimeSpan _timeout;
    private readonly int _waitForReplicas;
    private readonly string _endpoint;
    private readonly ConcurrentDictionary<string, PoolNames> _pools = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string BackendName => "redis";

    /// <summary>Creates a store over a shared connection.</summary>
    /// <param name="redis">The connection; the store does not dispose it.</param>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public RedisLeaseStore(IConnectionMultiplexer redis, RedisLeasingOptions? options = null)
    {
        (_redis, _database, _names, _timeout, _endpoint, var valid) = RedisStoreSetup.Create(redis, options);
        _waitForReplicas = valid.WaitForReplicas;
    }

    /// <inheritdoc/>
    protected override async ValueTask<Lease?> TryAcquireCoreAsync(string key, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var token = OwnerTokens.Create();
        RedisKey redisKey = _names.SingleKey(key);
        var result = await RunAsync(LeaseScripts.SingleAcquire, [redisKey], [token, Micros(ttl)], "an acquire", cancellationToken).ConfigureAwait(false);
        if (result.IsNull)
        {
            return null;
        }

        var values = (RedisResult[])result!;
        var lease = new Lease(key, token, (long)values[0], FromMicros((long)values[1]));
        await WaitForReplicasAsync(lease, redisKey, cancellationToken).ConfigureAwait(false);
        return lease;
    }

    /// <inheritdoc/>
    protected override async ValueTask<Lease?> RenewCoreAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var result = lease.Pool is null
            ? await RunAsync(LeaseScripts.SingleRenew, [_names.SingleKey(lease.Key)], [lease.Token, Micros(ttl)], "a renew", cancellationToken).ConfigureAwait(false)
            : await RunAsync(LeaseScripts.PoolRenew, Pool(lease.Pool).Keys, [lease.Token, Micros(ttl), lease.Key], "a renew", cancellationToken).ConfigureAwait(false);
        return result.IsNull ? null : lease with { ExpiresAt = FromMicros((long)result) };
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> ReleaseCoreAsync(Lease lease, CancellationToken cancellationToken)
    {
        if (lease.Pool is null)
        {
            return (long)await RunAsync(LeaseScripts.SingleRelease, [_names.SingleKey(lease.Key)], [lease.Token], "a release", cancellationToken).ConfigureAwait(false) == 1;
        }

        var pool = Pool(lease.Pool);
        return await pool.Releases.CallAsync(lease, (one, token) => ReleaseMemberAsync(pool, one, token), null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> ReleaseMemberAsync(PoolNames pool, Lease lease, CancellationToken cancellationToken) =>
        (long)await RunAsync(LeaseScripts.PoolRelease, pool.Keys, [lease.Token, lease.Key, pool.Channel], "a release", cancellationToken).ConfigureAwait(false) == 1;

    // One script for the releases queued behind the one in flight: each answered for its own lease.
    private async Task SendReleasesAsync(PoolNames pool, List<GroupCommit<Lease, bool>.Waiter> batch)
    {
        var values = new RedisValue[1 + (2 * batch.Count)];
        values[0] = pool.Channel;
        for (var i = 0; i < batch.Count; i++)
        {
            values[1 + (2 * i)] = batch[i].Item.Token;
            values[2 + (2 * i)] = batch[i].Item.Key;
        }

        var released = (RedisResult[])(await RunAsync(LeaseScripts.PoolReleaseMany, pool.Keys, values, "a release", CancellationToken.None).ConfigureAwait(false))!;
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete((long)released[i] == 1);
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> ReleaseWithCooldownCoreAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken)
    {
        var result = lease.Pool is null
            ? await RunAsync(LeaseScripts.SingleCooldown, [_names.SingleKey(lease.Key)], [lease.Token, Micros(cooldown)], "a cooldown", cancellationToken).ConfigureAwait(false)
            : await RunAsync(LeaseScripts.PoolCooldown, Pool(lease.Pool).Keys, [lease.Token, Micros(cooldown), lease.Key], "a cooldown", cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <inheritdoc/>
    /// <remarks>One script for all keys; on Redis Cluster one script per slot, sent together.</remarks>
    protected override async ValueTask<IReadOnlyList<LeaseState>> InspectCoreAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return [];
        }

        var states = new LeaseState[keys.Count];
        if (!IsCluster())
        {
            await InspectGroupAsync(keys, [.. Enumerable.Range(0, keys.Count)], states, cancellationToken).ConfigureAwait(false);
            return states;
        }

        var groups = Enumerable.Range(0, keys.Count).GroupBy(i => _redis.HashSlot(_names.SingleKey(keys[i])));
        await Task.WhenAll(groups.Select(g => InspectGroupAsync(keys, [.. g], states, cancellationToken))).ConfigureAwait(false);
        return states;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Lists of more than 1,000 members are written in several calls of at most 1,000 members each,
    /// so that no script blocks the server; meanwhile the pool holds the union of the old and the new
    /// list. When another list with a version at least as new starts meanwhile, this one stops and
    /// the other wins.
    /// </remarks>
    protected override async ValueTask SetPoolMembersCoreAsync(string pool, IReadOnlyCollection<string> members, long version, CancellationToken cancellationToken)
    {
        var keys = Pool(pool).Keys;
        var list = members.ToArray();
        long generation = 0;
        RedisValue cursor = "0";
        for (var offset = 0; offset < list.Length; offset += MembersPerCall)
        {
            var count = Math.Min(MembersPerCall, list.Length - offset);
            var last = offset + count == list.Length;
            var values = new RedisValue[3 + count];
            values[0] = version;
            values[1] = generation;
            values[2] = last ? 1 : 0;
            for (var i = 0; i < count; i++)
            {
                values[3 + i] = list[offset + i];
            }

            var reply = (RedisResult[])(await RunAsync(LeaseScripts.PoolMembersAdd, keys, values, "a member list write", cancellationToken).ConfigureAwait(false))!;
            generation = (long)reply[0];
            cursor = (RedisValue)reply[1];
            if (generation <= 0)
            {
                return; // 0: older than the stored version; -1: a newer list started meanwhile.
            }
        }

        while (cursor != "0")
        {
            var reply = (RedisResult[])(await RunAsync(LeaseScripts.PoolMembersSweep, keys, [generation, cursor], "a member list write", cancellationToken).ConfigureAwait(false))!;
            if ((long)reply[0] <= 0)
            {
                return;
            }

            cursor = (RedisValue)reply[1];
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask<IReadOnlyList<string>> GetPoolMembersCoreAsync(string pool, CancellationToken cancellationToken)
    {
        var result = await RunAsync(LeaseScripts.PoolMembers, Pool(pool).Keys, [], "a member list read", cancellationToken).ConfigureAwait(false);
        var members = ((RedisResult[])result!).Select(static r => (string)r!).ToArray();
        Array.Sort(members, StringComparer.Ordinal);
        return members;
    }

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken) =>
        TryAcquireLeastRecentlyUsedCoreAsync(pool, ttl, AnyVersion, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>
    /// <para>The check reads the version field of the pool's meta hash in the same script: still one EVALSHA.</para>
    /// <para>Concurrent calls for one pool in this process are grouped (<see cref="GroupCommit{TItem, TResult}"/>): while one
    /// is in flight the others queue, and the next script claims for all of them, in arrival order.</para>
    /// </remarks>
    protected override async ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        var names = Pool(pool);
        var lease = await names.Acquires.CallAsync((ttl, membersVersion), (item, token) => AcquireOneAsync(pool, names, item.Ttl, item.Version, token), GiveBackAsync, cancellationToken).ConfigureAwait(false);
        if (lease is not null)
        {
            await WaitForReplicasAsync(lease, names.Keys[0], cancellationToken).ConfigureAwait(false);
        }

        return lease;
    }

    private async Task<Lease?> AcquireOneAsync(string pool, PoolNames names, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        var token = OwnerTokens.Create();
        var result = await RunAsync(LeaseScripts.PoolAcquireLeastRecentlyUsed, names.Keys, [token, Micros(ttl), membersVersion], "an acquire", cancellationToken).ConfigureAwait(false);
        return Claimed(result, pool, token, membersVersion);
    }

    // One script for the acquires queued behind the one in flight: up to one member each, the least recently
    // acquired to the first caller.
    private async Task SendAcquiresAsync(string pool, PoolNames names, List<GroupCommit<(TimeSpan Ttl, long Version), Lease?>.Waiter> batch)
    {
        var (ttl, version) = batch[0].Item;
        var values = new RedisValue[2 + batch.Count];
        values[0] = Micros(ttl);
        values[1] = version;
        var tokens = new string[batch.Count];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = OwnerTokens.Create();
            values[2 + i] = tokens[i];
        }

        var result = await RunAsync(LeaseScripts.PoolAcquireLeastRecentlyUsedMany, names.Keys, values, "an acquire", CancellationToken.None).ConfigureAwait(false);
        if (result.Resp2Type == ResultType.BulkString)
        {
            var stale = Outdated(result, pool, version);
            batch.ForEach(w => w.Fail(stale));
            return;
        }

        // Parsed whole before any waiter hears: a malformed reply fails them all rather than some.
        var claims = (RedisResult[])result!;
        var granted = new Lease?[batch.Count];
        for (var i = 0; (i * 3) + 2 < claims.Length && i < batch.Count; i++)
        {
            granted[i] = new Lease((string)claims[i * 3]!, tokens[i], (long)claims[(i * 3) + 1], FromMicros((long)claims[(i * 3) + 2])) { Pool = pool };
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete(granted[i]);
        }
    }

    // A grant whose caller left after its script was sent: released at once (it expires with its lease otherwise).
    private Task GiveBackAsync(Lease? late) => late is null ? Task.CompletedTask : TryReleaseAsync(late).AsTask();

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken) =>
        TryAcquirePoolMemberCoreAsync(pool, member, ttl, AnyVersion, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The check reads the version field of the pool's meta hash in the same script: still one EVALSHA.</remarks>
    protected override async ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        var token = OwnerTokens.Create();
        var names = Pool(pool);
        var result = await RunAsync(LeaseScripts.PoolAcquireMember, names.Keys, [token, Micros(ttl), member, membersVersion], "an acquire", cancellationToken).ConfigureAwait(false);
        return await ClaimedAsync(result, pool, names, token, membersVersion, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One script: the release and the claim in one atomic step, one round trip.</remarks>
    protected override async ValueTask<ReleaseAndAcquireResult> ReleaseAndAcquireLeastRecentlyUsedCoreAsync(Lease lease, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        var token = OwnerTokens.Create();
        var pool = Pool(lease.Pool!);
        var result = await RunAsync(LeaseScripts.PoolReleaseAndAcquire, pool.Keys, [lease.Token, token, Micros(ttl), lease.Key, membersVersion, pool.Channel], "a release and acquire", cancellationToken).ConfigureAwait(false);
        if (result.Resp2Type == ResultType.Integer)
        {
            return new ReleaseAndAcquireResult(false, null, false);
        }

        var values = (RedisResult[])result!;
        if (values.Length == 1)
        {
            return new ReleaseAndAcquireResult(true, null, false);
        }

        if (values.Length == 3 && values[0].Resp2Type == ResultType.Integer && values[1].Resp2Type == ResultType.BulkString && ((string?)values[1])!.Length == 0)
        {
            return new ReleaseAndAcquireResult(true, null, true);
        }

        var next = new Lease((string)values[1]!, token, (long)values[2], FromMicros((long)values[3])) { Pool = lease.Pool };
        try
        {
            await WaitForReplicasAsync(next, pool.Keys[0], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LeaseStoreUnavailableException or OperationCanceledException)
        {
            // The release happened; the claim was given back by the replica wait.
            return new ReleaseAndAcquireResult(true, null, false);
        }

        return new ReleaseAndAcquireResult(true, next, false);
    }

    /// <inheritdoc/>
    protected override async ValueTask<IReadOnlyList<LeaseState>> InspectPoolCoreAsync(string pool, CancellationToken cancellationToken)
    {
        var reply = (RedisResult[])(await RunAsync(LeaseScripts.PoolInspect, Pool(pool).Keys, [], "a pool inspection", cancellationToken).ConfigureAwait(false))!;
        var now = (long)reply[0];
        var members = (RedisResult[])reply[1]!;
        var metaItems = (RedisResult[])reply[2]!;
        var busyItems = (RedisResult[])reply[3]!;

        // Member fields of the meta hash: f:ID = last fencing token (also the last acquisition time), t:ID = owner token.
        var fencings = new Dictionary<string, long>(StringComparer.Ordinal);
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < metaItems.Length; i += 2)
        {
            var field = (string)metaItems[i]!;
            if (field.StartsWith("f:", StringComparison.Ordinal))
            {
                fencings[field[2..]] = (long)double.Parse((string)metaItems[i + 1]!, CultureInfo.InvariantCulture);
            }
            else if (field.StartsWith("t:", StringComparison.Ordinal))
            {
                tokens[field[2..]] = (string)metaItems[i + 1]!;
            }
        }

        var busy = new Dictionary<string, long>(busyItems.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < busyItems.Length; i += 2)
        {
            busy[(string)busyItems[i]!] = (long)double.Parse((string)busyItems[i + 1]!, CultureInfo.InvariantCulture);
        }

        var states = new LeaseState[members.Length];
        for (var i = 0; i < members.Length; i++)
        {
            var id = (string)members[i]!;
            var fencing = fencings.GetValueOrDefault(id);
            var end = busy.GetValueOrDefault(id);
            states[i] = Describe(id, fencing, fencing, end, tokens.GetValueOrDefault(id, string.Empty).Length > 0, now);
        }

        Array.Sort(states, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return states;
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> ForceReleaseCoreAsync(string key, string? pool, CancellationToken cancellationToken)
    {
        if (pool is null)
        {
            return (long)await RunAsync(LeaseScripts.SingleForceRelease, [_names.SingleKey(key)], [], "a force release", cancellationToken).ConfigureAwait(false) == 1;
        }

        var poolNames = Pool(pool);
        return (long)await RunAsync(LeaseScripts.PoolForceRelease, poolNames.Keys, [key, poolNames.Channel], "a force release", cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One script. A single key's state lives in fields of its hash, which then no longer expires; a pool
    /// member's lives in the pool's state hash, under the pool's hash tag (one cluster slot).
    /// </remarks>
    protected override async ValueTask<bool> WriteStateCoreAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        var result = lease.Pool is null
            ? await RunAsync(LeaseScripts.SingleWriteState, [_names.SingleKey(lease.Key)], [lease.Token, state], "a state write", cancellationToken).ConfigureAwait(false)
            : await RunAsync(LeaseScripts.PoolWriteState, Pool(lease.Pool).Keys, [lease.Token, lease.Key, state], "a state write", cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <inheritdoc/>
    protected override async ValueTask<LeaseStateValue?> ReadStateCoreAsync(string key, string? pool, CancellationToken cancellationToken)
    {
        var read = pool is null
            ? _database.HashGetAsync(_names.SingleKey(key), SingleStateFields)
            : _database.HashGetAsync(Pool(pool).Names.State, ["d:" + key, "f:" + key, "w:" + key]);
        var values = await RedisCalls.RunAsync(read, "a state read", _timeout, cancellationToken, _endpoint).ConfigureAwait(false);
        if (values[1].IsNull)
        {
            return null;
        }

        return new LeaseStateValue(((byte[]?)values[0]) ?? [], (long)values[1], FromMicros((long)values[2]));
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A Redis pub/sub subscription on the pool's channel: releases and force releases made by any
    /// process reach it. Messages can be lost (for example while reconnecting); waiters keep polling.
    /// </remarks>
    public async ValueTask<IAsyncDisposable> SubscribeToReleasesAsync(string pool, Action onReleased, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        ArgumentNullException.ThrowIfNull(onReleased);
        cancellationToken.ThrowIfCancellationRequested();
        return await RedisSubscription.StartAsync(_redis, RedisChannel.Literal(Pool(pool).ChannelName), onReleased, _timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The Redis names of a pool (tests check that they share one slot).</summary>
    internal PoolKeyNames PoolKeyNamesOf(string pool) => Pool(pool).Names;

    /// <summary>The Redis key of a single key.</summary>
    internal string SingleKeyNameOf(string key) => _names.SingleKey(key);

    private static readonly RedisValue[] SingleStateFields = ["sd", "sf", "sw"];

    private static long Micros(TimeSpan span) => (span.Ticks + 9) / 10;

    private static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

    private static LeaseState Describe(string key, long fencing, long lastAcquired, long end, bool held, long now)
    {
        var last = lastAcquired > 0 ? FromMicros(lastAcquired) : (DateTimeOffset?)null;
        return end > now
            ? new LeaseState(key, held ? LeaseStatus.Held : LeaseStatus.CoolingDown, FromMicros(end), last, fencing)
            : new LeaseState(key, LeaseStatus.Free, null, last, fencing);
    }

    // The pool acquires answer nil (busy), {member, fencing, expiresAt}, or, when the members version
    // is outdated, the stored version as a string ('' when the pool is unknown).
    private async ValueTask<Lease?> ClaimedAsync(RedisResult result, string pool, PoolNames names, string token, long membersVersion, CancellationToken cancellationToken)
    {
        var lease = Claimed(result, pool, token, membersVersion);
        if (lease is not null)
        {
            await WaitForReplicasAsync(lease, names.Keys[0], cancellationToken).ConfigureAwait(false);
        }

        return lease;
    }

    private static Lease? Claimed(RedisResult result, string pool, string token, long membersVersion)
    {
        if (result.IsNull)
        {
            return null;
        }

        if (result.Resp2Type == ResultType.BulkString)
        {
            throw Outdated(result, pool, membersVersion);
        }

        var values = (RedisResult[])result!;
        return new Lease((string)values[0]!, token, (long)values[1], FromMicros((long)values[2])) { Pool = pool };
    }

    private static PoolMembersOutdatedException Outdated(RedisResult result, string pool, long membersVersion)
    {
        var stored = (string)result!;
        return new PoolMembersOutdatedException(pool, stored.Length == 0 ? null : long.Parse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture), membersVersion);
    }

    private async ValueTask WaitForReplicasAsync(Lease lease, RedisKey routedBy, CancellationToken cancellationToken)
    {
        if (_waitForReplicas == 0)
        {
            return;
        }

        long acknowledged;
        try
        {
            var server = _redis.GetServer(routedBy);
            var reply = await RedisCalls.RunAsync(server.ExecuteAsync("WAIT", _waitForReplicas, (long)_timeout.TotalMilliseconds), "a replica wait", _timeout + _timeout, cancellationToken, _endpoint).ConfigureAwait(false);
            acknowledged = (long)reply;
        }
        catch (Exception e) when (e is LeaseStoreUnavailableException or OperationCanceledException)
        {
            await TryReleaseAsync(lease).ConfigureAwait(false);
            throw;
        }

        if (acknowledged < _waitForReplicas)
        {
            await TryReleaseAsync(lease).ConfigureAwait(false);
            throw new LeaseStoreUnavailableException($"Only {acknowledged} of {_waitForReplicas} replicas confirmed the lease within {_timeout}; it was given back.");
        }
    }

    private async ValueTask TryReleaseAsync(Lease lease)
    {
        try
        {
            await ReleaseCoreAsync(lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (LeaseStoreUnavailableException)
        {
            // It expires on its own.
        }
    }

    private async Task InspectGroupAsync(IReadOnlyList<string> keys, int[] indexes, LeaseState[] states, CancellationToken cancellationToken)
    {
        var redisKeys = new RedisKey[indexes.Length];
        for (var i = 0; i < indexes.Length; i++)
        {
            redisKeys[i] = _names.SingleKey(keys[indexes[i]]);
        }

        var reply = (RedisResult[])(await RunAsync(LeaseScripts.SingleInspect, redisKeys, [], "an inspection", cancellationToken).ConfigureAwait(false))!;
        var now = (long)reply[0];
        for (var i = 0; i < indexes.Length; i++)
        {
            var at = 1 + (i * 4);
            states[indexes[i]] = Describe(keys[indexes[i]], (long)reply[at], (long)reply[at + 1], (long)reply[at + 2], (long)reply[at + 3] == 1, now);
        }
    }

    private bool IsCluster()
    {
        foreach (var server in _redis.GetServers())
        {
            if (server.ServerType == ServerType.Cluster)
            {
                return true;
            }
        }

        return false;
    }

    private Task<RedisResult> RunAsync(RedisScript script, RedisKey[] keys, RedisValue[] values, string operation, CancellationToken cancellationToken) =>
        RedisCalls.RunAsync(script.EvaluateAsync(_database, keys, values), operation, _timeout, cancellationToken, _endpoint);

    private PoolNames Pool(string pool) =>
        _pools.TryGetValue(pool, out var known) ? known : _pools.GetOrAdd(pool, static (name, store) => new PoolNames(store, name), this);

    /// <summary>A pool's key names, ready to pass to scripts, and this process's grouped calls of the pool.</summary>
    private sealed class PoolNames
    {
        public PoolNames(RedisLeaseStore store, string pool)
        {
            Names = store._names.Pool(pool);
            Keys = [Names.Meta, Names.Queue, Names.Members, Names.State];
            Channel = Names.Channel;
            Acquires = new(static (a, b) => a == b, batch => store.SendAcquiresAsync(pool, this, batch));
            Releases = new(static (_, _) => true, batch => store.SendReleasesAsync(this, batch));
        }

        public PoolKeyNames Names { get; }

        public RedisKey[] Keys { get; }

        public RedisValue Channel { get; }

        public string ChannelName => Names.Channel;

        /// <summary>This process's least-recently-used acquires of the pool, grouped while one is in flight (a batch shares ttl and members version).</summary>
        public GroupCommit<(TimeSpan Ttl, long Version), Lease?> Acquires { get; }

        /// <summary>This process's releases of the pool's members, grouped while one is in flight.</summary>
        public GroupCommit<Lease, bool> Releases { get; }
    }
}
