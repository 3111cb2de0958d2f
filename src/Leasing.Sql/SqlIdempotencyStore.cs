using System.Data.Common;

namespace Leasing.Sql;

/// <summary>
/// An <see cref="IIdempotencyStore"/> over SQLite or PostgreSQL through any ADO.NET <see cref="DbDataSource"/>.
/// Claim, heartbeat, complete and release are each one parameterised statement, timed by the database clock;
/// a claim always writes the row (<c>SET col = CASE WHEN claimable THEN new ELSE col END ... RETURNING</c>) and
/// reads who won from the returned owner token, so nothing is read, decided in the client, then written.
/// </summary>
/// <remarks>
/// Call <see cref="EnsureSchemaAsync"/> once before use. Options, clock and failures are those of
/// <see cref="SqlLeaseStore"/>: a driver error or timeout throws <see cref="LeaseStoreUnavailableException"/>.
/// </remarks>
public sealed class SqlIdempotencyStore : IdempotencyStore, IIdempotencyCompletionSource
{
    private readonly SqlRunner _runner;
    private readonly IdempotencyStatements _sql;
    private readonly SqlSignals _signals;

    /// <summary>Creates a store; nothing is read or written until the first call.</summary>
    /// <param name="dataSource">The data source (Microsoft.Data.Sqlite or Npgsql); the host owns and disposes it.</param>
    /// <param name="dialect">The dialect of <paramref name="dataSource"/>.</param>
    /// <param name="options">Table prefix, timeout and (SQLite) clock; defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The table prefix is not an identifier, or the timeout is out of range.</exception>
    public SqlIdempotencyStore(DbDataSource dataSource, SqlDialect dialect, SqlLeasingOptions? options = null)
    {
        _runner = new SqlRunner(dataSource, dialect, options ?? new SqlLeasingOptions(), "SQL idempotency store");
        _sql = new IdempotencyStatements(_runner);
        _signals = SqlSignals.For(dataSource, _runner, (options ?? new SqlLeasingOptions()).Notifications);
    }

    /// <summary>The dialect this store speaks.</summary>
    public SqlDialect Dialect => _runner.Dialect;

    /// <inheritdoc />
    public override string BackendName => Dialect == SqlDialect.Sqlite ? "sqlite" : "postgresql";

    /// <summary>Creates the idempotency table and schema version row if missing. Idempotent; safe from several processes at once.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is ready.</returns>
    /// <exception cref="InvalidOperationException">The stored schema is newer than this release understands.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The database could not be reached.</exception>
    public ValueTask EnsureSchemaAsync(CancellationToken cancellationToken = default) =>
        SqlSchema.EnsureAsync(_runner, SqlSchema.Idempotency, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask<IdempotencyClaim> TryClaimCoreAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken)
    {
        var owner = OwnerTokens.Create();
        var args = new SqlArgs().Text("key", key).Text("fingerprint", fingerprint).Text("owner", owner)
            .Int64("lease", SqlLeaseStore.Micro(lease)).Int64("unfinished", SqlLeaseStore.Micro(IdempotencyStatements.UnfinishedRetention));
        return _runner.QuerySingleAsync(_sql.Claim, args, r => ReadClaim(r, owner, fingerprint), null!, cancellationToken);
    }

    /// <inheritdoc/>
    protected override ValueTask<bool> HeartbeatCoreAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        var args = new SqlArgs().Text("key", key).Text("owner", ownerToken)
            .Int64("lease", SqlLeaseStore.Micro(lease)).Int64("unfinished", SqlLeaseStore.Micro(IdempotencyStatements.UnfinishedRetention));
        return _runner.QuerySingleAsync(_sql.Heartbeat, args, Found, false, cancellationToken);
    }

    /// <inheritdoc/>
    protected override ValueTask<bool> CompleteCoreAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken)
    {
        var status = outcome == IdempotencyOutcome.Succeeded ? IdempotencyStatus.Succeeded : IdempotencyStatus.Failed;
        var args = new SqlArgs().Text("key", key).Text("owner", ownerToken).Int64("status", (long)status)
            .Bytes("result", payload).Int64("retention", SqlLeaseStore.Micro(retention));
        return SignalAsync(_runner.QuerySingleAsync(_sql.Complete, args, Found, false, cancellationToken), key);
    }

    /// <inheritdoc/>
    protected override ValueTask<bool> ReleaseCoreAsync(string key, string ownerToken, CancellationToken cancellationToken)
    {
        var args = new SqlArgs().Text("key", key).Text("owner", ownerToken)
            .Int64("unfinished", SqlLeaseStore.Micro(IdempotencyStatements.UnfinishedRetention));
        return SignalAsync(_runner.QuerySingleAsync(_sql.Release, args, Found, false, cancellationToken), key);
    }

    /// <inheritdoc/>
    protected override ValueTask<IdempotencyRecord?> GetCoreAsync(string key, CancellationToken cancellationToken) =>
        _runner.QuerySingleAsync(_sql.Get, new SqlArgs().Text("key", key), ReadRecord, null, cancellationToken, write: false);

    /// <inheritdoc/>
    protected override ValueTask<bool> EvictCoreAsync(string key, CancellationToken cancellationToken) =>
        SignalAsync(_runner.QuerySingleAsync(_sql.Evict, new SqlArgs().Text("key", key), Found, false, cancellationToken), key);

    /// <summary>
    /// Deletes the records past their end, key and payload together, in batches of a few hundred rows a statement
    /// (never one long lock): a completed record once its retention has passed, an unfinished one (its owner's lease
    /// ran out, or it was released or evicted) a day after its claim ended, as on Redis; on PostgreSQL also the
    /// markers of completion waiters that stopped renewing them. A later claim of a purged key starts at attempt 1,
    /// and its fencing token still exceeds the earlier ones through the clock term of the fencing rule. Registered
    /// through dependency injection, this runs every <see cref="SqlLeasingOptions.PurgeInterval"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call; batches already run stay deleted.</param>
    /// <returns>The number of rows removed.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The database failed or did not answer within the command timeout.</exception>
    public async ValueTask<int> PurgeExpiredAsync(CancellationToken cancellationToken = default)
    {
        var removed = await SqlPurge.RunAsync(_runner, _sql.Purge, static () => new SqlArgs(), cancellationToken).ConfigureAwait(false);
        if (Dialect == SqlDialect.PostgreSql)
        {
            removed += await SqlPurge.RunAsync(_runner, LeaseStatements.PurgeWaiters(_runner.Names), static () => new SqlArgs().Text("kind", SqlSignals.Complete), cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>
    /// Subscribes to completions, releases and evictions of <paramref name="key"/>: those made through any SQL
    /// idempotency store over the same data source and tables in this process, and on PostgreSQL with
    /// <see cref="SqlLeasingOptions.Notifications"/> those of other processes (LISTEN/NOTIFY). Waiters poll as well.
    /// </summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="onCompleted">Called, on the completing thread, after the key completed or was released. Must not block.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A handle that unsubscribes when disposed.</returns>
    public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        ArgumentNullException.ThrowIfNull(onCompleted);
        return _signals.SubscribeAsync(SqlSignals.Complete, key, onCompleted, cancellationToken);
    }

    /// <summary>Describes the store without secrets.</summary>
    /// <returns>The dialect and table prefix.</returns>
    public override string ToString() => $"SqlIdempotencyStore {{ Dialect = {Dialect}, TablePrefix = {_runner.Names.Prefix} }}";

    private static bool Found(DbDataReader reader) => true;

    private async ValueTask<bool> SignalAsync(ValueTask<bool> change, string key)
    {
        var changed = await change.ConfigureAwait(false);
        if (changed)
        {
            _signals.Publish(SqlSignals.Complete, key);
        }

        return changed;
    }

    // Columns: key, present, status, fingerprint, owner_token, lease_expires_at, record_expires_at, result, attempt, fencing, now.
    private static IdempotencyRecord ReadRecord(DbDataReader r) => new(
        r.GetString(0),
        (IdempotencyStatus)r.GetInt32(2),
        r.GetString(3),
        SqlLeaseStore.Time(r.GetInt64(5)),
        r.IsDBNull(7) ? (ReadOnlyMemory<byte>?)null : new ReadOnlyMemory<byte>((byte[])r.GetValue(7)),
        r.GetInt32(8),
        r.GetInt64(9));

    private static IdempotencyClaim ReadClaim(DbDataReader r, string owner, string fingerprint)
    {
        var record = ReadRecord(r);
        var outcome = !r.IsDBNull(4) && string.Equals(r.GetString(4), owner, StringComparison.Ordinal)
            ? ClaimOutcome.Claimed
            : !string.Equals(record.Fingerprint, fingerprint, StringComparison.Ordinal)
                ? ClaimOutcome.FingerprintMismatch
                : record.Status is IdempotencyStatus.Succeeded or IdempotencyStatus.Failed
                    ? ClaimOutcome.Completed
                    : ClaimOutcome.InProgress;
        return new IdempotencyClaim(outcome, outcome == ClaimOutcome.Claimed ? owner : null, record.FencingToken, record);
    }
}
