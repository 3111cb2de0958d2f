using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using Leasing.Internal;

namespace Leasing.Sql;

/// <summary>
/// An <see cref="ILeaseStore"/> over SQLite (embedded, one host) or PostgreSQL (distributed), through
/// any ADO.NET <see cref="DbDataSource"/>. Every operation is one round trip of parameterised SQL (a
/// member-list write is one batch), timed by the database clock on PostgreSQL and by the
/// <see cref="SqlLeasingOptions.TimeProvider"/> on SQLite; pools pick and claim the least recently
/// acquired free member in that round trip. On PostgreSQL a pool's concurrent acquires (and releases) in
/// one process queue behind the one in flight and go out as one statement.
/// </summary>
/// <remarks>
/// <para>Call <see cref="EnsureSchemaAsync"/> once (at start) before use. The tables carry the prefix of
/// <see cref="SqlLeasingOptions.TablePrefix"/> and a schema version row.</para>
/// <para>Clock: PostgreSQL's <c>clock_timestamp()</c>; SQLite has none, so <see cref="SqlLeasingOptions.TimeProvider"/>
/// is passed as a parameter (all processes sharing a SQLite file must run on one host). Fencing tokens are
/// max(stored + 1, clock in microseconds) and survive release.</para>
/// <para>A driver error or a statement that does not answer within <see cref="SqlLeasingOptions.CommandTimeout"/>
/// throws <see cref="LeaseStoreUnavailableException"/> (the driver's exception inside); the caller's
/// cancellation throws <see cref="OperationCanceledException"/>.</para>
/// </remarks>
public sealed class SqlLeaseStore : LeaseStore, ILeaseReleaseSource
{
    // The members version the unversioned pool acquires pass to the statements: no check.
    private const long AnyVersion = -1;
    private readonly SqlRunner _runner;
    private readonly LeaseStatements _sql;
    private readonly SqlSignals _signals;
    private readonly ConcurrentDictionary<string, PoolCalls> _pools = new(StringComparer.Ordinal);

    // VacuumAsync: 0 not checked yet, 1 this role may vacuum the tables, -1 it may not.
    private int _mayVacuum;

    /// <summary>Creates a store; nothing is read or written until the first call.</summary>
    /// <param name="dataSource">The data source (Microsoft.Data.Sqlite or Npgsql); the host owns and disposes it.</param>
    /// <param name="dialect">The dialect of <paramref name="dataSource"/>.</param>
    /// <param name="options">Table prefix, timeout and (SQLite) clock; defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The table prefix is not an identifier, or the timeout is out of range.</exception>
    public SqlLeaseStore(DbDataSource dataSource, SqlDialect dialect, SqlLeasingOptions? options = null)
    {
        _runner = new SqlRunner(dataSource, dialect, options ?? new SqlLeasingOptions(), "SQL lease store");
        _sql = new LeaseStatements(_runner);
        _signals = SqlSignals.For(dataSource, _runner, (options ?? new SqlLeasingOptions()).Notifications);
    }

    /// <summary>The dialect this store speaks.</summary>
    public SqlDialect Dialect => _runner.Dialect;

    /// <inheritdoc />
    public override string BackendName => Dialect == SqlDialect.Sqlite ? "sqlite" : "postgresql";

    /// <summary>
    /// Creates the lease tables, indexes and schema version row if missing (and, on SQLite, switches the
    /// file to WAL). Idempotent; safe to call from several processes at once.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is ready.</returns>
    /// <exception cref="InvalidOperationException">The stored schema is newer than this release understands.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The database could not be reached.</exception>
    public ValueTask EnsureSchemaAsync(CancellationToken cancellationToken = default) =>
        SqlSchema.EnsureAsync(_runner, SqlSchema.Leases, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquireCoreAsync(string key, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var token = OwnerTokens.Create();
        var args = new SqlArgs().Text("name", key).Text("token", token).Int64("ttl", Micro(ttl));
        return _runner.QuerySingleAsync(_sql.Acquire, args, r => new Lease(key, token, r.GetInt64(0), Time(r.GetInt64(1))), null, cancellationToken);
    }

    /// <inheritdoc/>
    protected override ValueTask<Lease?> RenewCoreAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var args = Target(lease).Int64("ttl", Micro(ttl));
        return _runner.QuerySingleAsync(
            lease.Pool is null ? _sql.Renew : _sql.RenewMember,
            args,
            r => lease with { FencingToken = r.GetInt64(0), ExpiresAt = Time(r.GetInt64(1)) },
            null,
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// On PostgreSQL, concurrent releases of one pool's members in this process are grouped: while one is in
    /// flight the others queue and go out as one statement.
    /// </remarks>
    protected override ValueTask<bool> ReleaseCoreAsync(Lease lease, CancellationToken cancellationToken) =>
        lease.Pool is { } pool && Dialect == SqlDialect.PostgreSql
            ? new ValueTask<bool>(Calls(pool).Releases.CallAsync(lease, (one, token) => ReleaseOneAsync(one, token).AsTask(), null, cancellationToken))
            : ReleaseOneAsync(lease, cancellationToken);

    private async ValueTask<bool> ReleaseOneAsync(Lease lease, CancellationToken cancellationToken)
    {
        var released = await _runner.QuerySingleAsync(lease.Pool is null ? _sql.Release : _sql.ReleaseMember, Target(lease), Found, false, cancellationToken).ConfigureAwait(false);
        if (released && lease.Pool is not null)
        {
            _signals.Publish(SqlSignals.Release, lease.Pool);
        }

        return released;
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> ReleaseWithCooldownCoreAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken)
    {
        var args = Target(lease).Int64("ttl", Micro(cooldown));
        return await _runner.QuerySingleAsync(lease.Pool is null ? _sql.Cooldown : _sql.CooldownMember, args, Found, false, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask<IReadOnlyList<LeaseState>> InspectCoreAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return [];
        }

        var args = new SqlArgs().Text("names", JsonSerializer.Serialize(keys, SqlJson.Default.IReadOnlyListString));
        var rows = await _runner.QueryListAsync(_sql.Inspect, args, r => ReadState(r, 0, null), cancellationToken).ConfigureAwait(false);
        var states = new LeaseState[keys.Count];
        for (var i = 0; i < states.Length; i++)
        {
            states[i] = rows[i] with { Key = keys[i] };
        }

        return states;
    }

    /// <inheritdoc/>
    protected override async ValueTask SetPoolMembersCoreAsync(string pool, IReadOnlyCollection<string> members, long version, CancellationToken cancellationToken)
    {
        var args = new SqlArgs().Text("pool", pool).Int64("version", version)
            .Text("members", JsonSerializer.Serialize(members, SqlJson.Default.IReadOnlyCollectionString));
        await _runner.ExecuteAsync(_sql.SetMembers, args, cancellationToken, rollbackOnError: Dialect == SqlDialect.Sqlite).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask<IReadOnlyList<string>> GetPoolMembersCoreAsync(string pool, CancellationToken cancellationToken)
    {
        return await _runner.QueryListAsync(_sql.GetMembers, new SqlArgs().Text("pool", pool), r => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken) =>
        TryAcquireLeastRecentlyUsedCoreAsync(pool, ttl, AnyVersion, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>
    /// <para>The check reads the pool's version row in the acquire statement itself.</para>
    /// <para>On PostgreSQL, concurrent calls for one pool in this process are grouped: while one is in flight the
    /// others queue, and the next statement claims for all of them, in arrival order.</para>
    /// </remarks>
    protected override ValueTask<Lease?> TryAcquireLeastRecentlyUsedCoreAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken) =>
        Dialect == SqlDialect.PostgreSql
            ? new ValueTask<Lease?>(Calls(pool).Acquires.CallAsync((ttl, membersVersion), (item, token) => AcquireOneAsync(pool, item.Ttl, item.Version, token).AsTask(), GiveBackAsync, cancellationToken))
            : AcquireOneAsync(pool, ttl, membersVersion, cancellationToken);

    private ValueTask<Lease?> AcquireOneAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken) =>
        ClaimPoolMemberAsync(_sql.AcquireLeastRecentlyUsed, new SqlArgs().Text("pool", pool), pool, ttl, membersVersion, cancellationToken);

    // One statement for the acquires queued behind the one in flight: up to one member each, the least recently
    // acquired to the first caller.
    private async Task SendAcquiresAsync(string pool, List<GroupCommit<(TimeSpan Ttl, long Version), Lease?>.Waiter> batch)
    {
        var (ttl, version) = batch[0].Item;
        var tokens = new string[batch.Count];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = OwnerTokens.Create();
        }

        var args = new SqlArgs().Text("pool", pool).Text("tokens", JsonSerializer.Serialize<IReadOnlyList<string>>(tokens, SqlJson.Default.IReadOnlyListString))
            .Int64("count", tokens.Length).Int64("ttl", Micro(ttl)).Int64("version", version);
        var rows = await _runner.QueryListAsync(
            _sql.AcquireLeastRecentlyUsedMany,
            args,
            static r => (Token: r.IsDBNull(4) ? null : r.GetString(4), Claim: r.IsDBNull(0) ? default : new PoolClaim(r.GetString(0), r.GetInt64(1), r.GetInt64(2), false, null), Stored: r.IsDBNull(3) ? (long?)null : r.GetInt64(3)),
            CancellationToken.None,
            write: true).ConfigureAwait(false);
        if (rows.Count > 0 && rows[0].Token is null)
        {
            var stale = new PoolMembersOutdatedException(pool, rows[0].Stored, version);
            batch.ForEach(w => w.Fail(stale));
            return;
        }

        var claims = rows.ToDictionary(static r => r.Token!, static r => r.Claim, StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Complete(claims.TryGetValue(tokens[i], out var claim) ? new Lease(claim.Member!, tokens[i], claim.Fencing, Time(claim.ExpiresAt)) { Pool = pool } : null);
        }
    }

    // One statement for the releases queued behind the one in flight: each answered for its own lease.
    private async Task SendReleasesAsync(string pool, List<GroupCommit<Lease, bool>.Waiter> batch)
    {
        var pairs = new string[batch.Count][];
        for (var i = 0; i < pairs.Length; i++)
        {
            pairs[i] = [batch[i].Item.Key, batch[i].Item.Token];
        }

        var args = new SqlArgs().Text("pool", pool).Text("releases", JsonSerializer.Serialize(pairs, SqlJson.Default.StringArrayArray));
        var rows = await _runner.QueryListAsync(_sql.ReleaseMembers, args, static r => (r.GetString(0), r.GetString(1)), CancellationToken.None, write: true).ConfigureAwait(false);
        var freed = rows.ToHashSet();
        foreach (var waiter in batch)
        {
            // One answer per freed lease: a second release of the same lease in the batch answers false.
            var released = freed.Remove((waiter.Item.Key, waiter.Item.Token));
            if (released)
            {
                _signals.Publish(SqlSignals.Release, pool);
            }

            waiter.Complete(released);
        }
    }

    // A grant whose caller left after its statement was sent: released at once (if that fails, GroupCommit
    // observes it and the grant expires with its lease).
    private Task GiveBackAsync(Lease? late) => late is null ? Task.CompletedTask : ReleaseCoreAsync(late, CancellationToken.None).AsTask();

    private PoolCalls Calls(string pool) =>
        _pools.TryGetValue(pool, out var known) ? known : _pools.GetOrAdd(pool, static (name, store) => new PoolCalls(store, name), this);

    /// <inheritdoc/>
    protected override ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken) =>
        TryAcquirePoolMemberCoreAsync(pool, member, ttl, AnyVersion, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The check reads the pool's version row in the acquire statement itself.</remarks>
    protected override ValueTask<Lease?> TryAcquirePoolMemberCoreAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken) =>
        ClaimPoolMemberAsync(_sql.AcquireMember, new SqlArgs().Text("pool", pool).Text("member", member), pool, ttl, membersVersion, cancellationToken);

    /// <inheritdoc/>
    protected override async ValueTask<IReadOnlyList<LeaseState>> InspectPoolCoreAsync(string pool, CancellationToken cancellationToken)
    {
        return await _runner.QueryListAsync(_sql.InspectPool, new SqlArgs().Text("pool", pool), r => ReadState(r, 1, r.GetString(0)), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> ForceReleaseCoreAsync(string key, string? pool, CancellationToken cancellationToken)
    {
        var args = pool is null ? new SqlArgs().Text("name", key) : new SqlArgs().Text("pool", pool).Text("member", key);
        var released = await _runner.QuerySingleAsync(pool is null ? _sql.ForceRelease : _sql.ForceReleaseMember, args, Found, false, cancellationToken).ConfigureAwait(false);
        if (released && pool is not null)
        {
            _signals.Publish(SqlSignals.Release, pool);
        }

        return released;
    }

    /// <summary>
    /// Deletes the rows nobody needs any more, in batches of a few hundred rows a statement (never one long lock):
    /// single-key (lock) rows whose last lease or cooldown ended at least a day ago, and on PostgreSQL the markers
    /// of pool waiters that stopped renewing them. A lock row is kept a day, as on Redis, because it holds the key's
    /// fencing counter: a day later the clock term of the fencing rule (max(stored + 1, clock in µs)) already
    /// puts the next token above every earlier one. Pool member rows are never purged: they carry the member's
    /// fencing counter and its least-recently-used position. Registered through dependency injection, this runs
    /// every <see cref="SqlLeasingOptions.PurgeInterval"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call; batches already run stay deleted.</param>
    /// <returns>The number of rows removed.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The database failed or did not answer within the command timeout.</exception>
    public async ValueTask<int> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        var keep = Micro(SqlPurge.LeaseRowKeep);
        var removed = await SqlPurge.RunAsync(_runner, _sql.PurgeLeases, () => new SqlArgs().Int64("keep", keep), cancellationToken).ConfigureAwait(false);
        if (Dialect == SqlDialect.PostgreSql)
        {
            removed += await SqlPurge.RunAsync(_runner, LeaseStatements.PurgeWaiters(_runner.Names), static () => new SqlArgs().Text("kind", SqlSignals.Release), cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>
    /// PostgreSQL: vacuums the lease and pool-member tables (<c>VACUUM (SKIP_LOCKED)</c>), which every acquire,
    /// renew and release updates. A claim moves the member in the least-recently-used index, so each one leaves a
    /// dead index entry in front of the next pick until a vacuum removes it; autovacuum comes at most once per
    /// <c>autovacuum_naptime</c>, which at thousands of claims a second is too late. Skipped while another vacuum of
    /// a table runs. Index entries are always cleaned (<c>INDEX_CLEANUP ON</c>: the default skips them when few pages
    /// hold dead rows, which is the case of one hot pool among many), and the table is never truncated (no exclusive
    /// lock). Only the tables' owner (or a superuser) may vacuum them: the first call checks, and when the role may
    /// not, this call and every later one on this store return <see langword="false"/> without vacuuming. SQLite
    /// keeps no dead row versions: nothing is done. Registered through dependency injection, this runs every
    /// <see cref="SqlLeasingOptions.VacuumInterval"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the database role may not vacuum the tables; <see langword="true"/> otherwise.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The database failed or did not answer within a minute.</exception>
    public async ValueTask<bool> VacuumAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Dialect != SqlDialect.PostgreSql)
        {
            return true;
        }

        var allowed = Volatile.Read(ref _mayVacuum);
        if (allowed < 0)
        {
            return false;
        }

        var n = _runner.Names;
        return await _runner.ScriptAsync(
            async (connection, token) =>
            {
                using var command = connection.CreateCommand();
                command.CommandTimeout = 0; // the call's own limit (a minute) ends it
                if (allowed == 0)
                {
                    // Owner or superuser, over the tables that exist; no table at all answers null (unknown: try).
                    command.CommandText =
                        "SELECT bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) " +
                        $"FROM pg_class c WHERE c.oid IN (to_regclass('{n.Members}'), to_regclass('{n.Leases}'))";
                    if (await command.ExecuteScalarAsync(token).ConfigureAwait(false) is bool may)
                    {
                        Volatile.Write(ref _mayVacuum, may ? 1 : -1);
                        if (!may)
                        {
                            return false;
                        }
                    }
                }

                // Not prepared: VACUUM is a utility statement, and it must run outside any transaction block.
                command.CommandText = $"VACUUM (SKIP_LOCKED, INDEX_CLEANUP ON, TRUNCATE false) {n.Members}, {n.Leases}";
                await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes to releases of members of <paramref name="pool"/>: those made through any SQL lease store over
    /// the same data source and tables in this process, and on PostgreSQL with <see cref="SqlLeasingOptions.Notifications"/>
    /// those of other processes (LISTEN/NOTIFY). Notifications can be lost; waiters poll as well.
    /// </summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="onReleased">Called, on the releasing thread, after a member was released. Must not block.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A handle that unsubscribes when disposed.</returns>
    public ValueTask<IAsyncDisposable> SubscribeToReleasesAsync(string pool, Action onReleased, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(pool, nameof(pool));
        ArgumentNullException.ThrowIfNull(onReleased);
        return _signals.SubscribeAsync(SqlSignals.Release, pool, onReleased, cancellationToken);
    }

    /// <summary>Describes the store without secrets.</summary>
    /// <returns>The dialect and table prefix.</returns>
    public override string ToString() => $"SqlLeaseStore {{ Dialect = {Dialect}, TablePrefix = {_runner.Names.Prefix} }}";

    private async ValueTask<Lease?> ClaimPoolMemberAsync(string sql, SqlArgs args, string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken)
    {
        var token = OwnerTokens.Create();
        args.Text("token", token).Int64("ttl", Micro(ttl)).Int64("version", membersVersion);
        var claim = await _runner.QueryAsync(sql, args, ReadPoolClaimAsync, cancellationToken).ConfigureAwait(false);
        if (claim.Outdated)
        {
            throw new PoolMembersOutdatedException(pool, claim.StoredVersion, membersVersion);
        }

        return claim.Member is null ? null : new Lease(claim.Member, token, claim.Fencing, Time(claim.ExpiresAt)) { Pool = pool };
    }

    // The pool acquire statements answer rows (member, fencing, expires_at, stored version) over one
    // result (PostgreSQL) or two (SQLite): a claimed member wins over an outdated row (member NULL);
    // no row at all means busy.
    private static async ValueTask<PoolClaim> ReadPoolClaimAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var claim = default(PoolClaim);
        do
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!reader.IsDBNull(0))
                {
                    return new PoolClaim(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), false, null);
                }

                claim = new PoolClaim(null, 0, 0, true, reader.IsDBNull(3) ? null : reader.GetInt64(3));
            }
        }
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

        return claim;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One statement: the lease row is checked (and, on PostgreSQL, share-locked, so an acquire by another
    /// waits for the write to commit) and the state row upserted. State rows live in a table of their own,
    /// which the purge of old single-key rows does not touch.
    /// </remarks>
    protected override async ValueTask<bool> WriteStateCoreAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        var args = Target(lease).Bytes("data", state);
        return await _runner.QuerySingleAsync(lease.Pool is null ? _sql.WriteState : _sql.WriteMemberState, args, Found, false, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override ValueTask<LeaseStateValue?> ReadStateCoreAsync(string key, string? pool, CancellationToken cancellationToken)
    {
        var args = pool is null ? new SqlArgs().Text("name", key) : new SqlArgs().Text("pool", pool).Text("member", key);
        return _runner.QuerySingleAsync(
            pool is null ? _sql.ReadState : _sql.ReadMemberState,
            args,
            r => (LeaseStateValue?)new LeaseStateValue((byte[])r.GetValue(0), r.GetInt64(1), Time(r.GetInt64(2))),
            null,
            cancellationToken,
            write: false);
    }

    private static bool Found(DbDataReader reader) => true;

    private static SqlArgs Target(Lease lease) =>
        lease.Pool is null
            ? new SqlArgs().Text("name", lease.Key).Text("token", lease.Token)
            : new SqlArgs().Text("pool", lease.Pool).Text("member", lease.Key).Text("token", lease.Token);

    // Columns from `first`: state, expires_at, acquired_at, fencing, now (all NULL for a key never seen).
    private static LeaseState ReadState(DbDataReader r, int first, string? key)
    {
        var acquiredAt = r.IsDBNull(first + 2) ? (DateTimeOffset?)null : Time(r.GetInt64(first + 2));
        var fencing = r.IsDBNull(first + 3) ? 0 : r.GetInt64(first + 3);
        if (r.IsDBNull(first))
        {
            return new LeaseState(key ?? string.Empty, LeaseStatus.Free, null, acquiredAt, fencing);
        }

        var state = r.GetInt32(first);
        var now = r.GetInt64(first + 4);
        if (state == 0 || r.IsDBNull(first + 1) || r.GetInt64(first + 1) <= now)
        {
            return new LeaseState(key ?? string.Empty, LeaseStatus.Free, null, acquiredAt, fencing);
        }

        return new LeaseState(key ?? string.Empty, state == 1 ? LeaseStatus.Held : LeaseStatus.CoolingDown, Time(r.GetInt64(first + 1)), acquiredAt, fencing);
    }

    internal static long Micro(TimeSpan span) => span.Ticks / (TimeSpan.TicksPerMillisecond / 1000);

    internal static DateTimeOffset Time(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * (TimeSpan.TicksPerMillisecond / 1000));

    /// <summary>This process's grouped calls of one pool (PostgreSQL).</summary>
    private sealed class PoolCalls(SqlLeaseStore store, string pool)
    {
        /// <summary>Least-recently-used acquires, grouped while one is in flight (a batch shares ttl and members version).</summary>
        public GroupCommit<(TimeSpan Ttl, long Version), Lease?> Acquires { get; } = new(static (a, b) => a == b, batch => store.SendAcquiresAsync(pool, batch));

        /// <summary>Releases of the pool's members, grouped while one is in flight.</summary>
        public GroupCommit<Lease, bool> Releases { get; } = new(static (_, _) => true, batch => store.SendReleasesAsync(pool, batch));
    }

    /// <summary>What a pool acquire statement answered: a claimed member, an outdated member list, or neither (busy).</summary>
    private readonly record struct PoolClaim(string? Member, long Fencing, long ExpiresAt, bool Outdated, long? StoredVersion);
}
