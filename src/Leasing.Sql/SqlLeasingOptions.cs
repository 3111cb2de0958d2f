namespace Leasing.Sql;

/// <summary>Options of the SQL stores; usable without dependency injection.</summary>
public sealed class SqlLeasingOptions
{
    /// <summary>
    /// The prefix of every table (and sequence) the stores create: an identifier of ASCII letters,
    /// digits and underscores that does not start with a digit, at most 40 characters. Checked when a
    /// store is constructed; it is the only text ever placed in statements, every value is a parameter.
    /// </summary>
    /// <value>The default is <c>leasing_</c>.</value>
    public string TablePrefix { get; set; } = "leasing_";

    /// <summary>
    /// How long one statement may take (opening the connection included) before the call fails with
    /// <see cref="LeaseStoreUnavailableException"/>. On SQLite it is also the busy timeout: how long a
    /// writer waits for another process's write to finish. At least one second.
    /// </summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The clock of <see cref="SqlDialect.Sqlite"/>, which has none of its own: every statement gets its
    /// time as a parameter. Ignored on PostgreSQL, which uses the server's <c>clock_timestamp()</c>.
    /// </summary>
    /// <value>The default (<see langword="null"/>) is <see cref="System.TimeProvider.System"/>.</value>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// How often the background purge registered by <c>AddSqlLeasing</c> (and so by <c>AddSqliteLeasing</c> and
    /// <c>AddPostgresLeasing</c>) calls <see cref="SqlLeaseStore.PurgeExpiredAsync"/> and
    /// <see cref="SqlIdempotencyStore.PurgeExpiredAsync"/>: idempotency records past their retention, lock rows a
    /// day past their end and stale waiter markers are deleted. <see cref="Timeout.InfiniteTimeSpan"/> turns it
    /// off. Positive and at most one day otherwise. Stores built without dependency injection never purge on
    /// their own: call <c>PurgeExpiredAsync</c>.
    /// </summary>
    /// <value>The default is 1 minute.</value>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// PostgreSQL only: how often the background service registered by <c>AddSqlLeasing</c> (and so by
    /// <c>AddPostgresLeasing</c>) calls <see cref="SqlLeaseStore.VacuumAsync"/>. Every claim of a pool member moves
    /// it in the pool's least-recently-used index and leaves a dead index entry in front of the next pick; autovacuum
    /// visits a table at most once per <c>autovacuum_naptime</c> (one minute by default), and at thousands of claims a
    /// second the picks walk over hundreds of thousands of dead entries (measured: throughput halved within a
    /// minute). A vacuum of these small tables takes about a millisecond. <see cref="Timeout.InfiniteTimeSpan"/> turns
    /// it off (leave it to a tuned autovacuum); positive and at most one hour otherwise. Ignored on SQLite.
    /// </summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan VacuumInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// PostgreSQL only: creates the lease tables (single-key leases, pools, pool members and their fenced state)
    /// <c>UNLOGGED</c>: their writes skip the write-ahead log, so an acquire or release no longer waits for a WAL
    /// flush. What it costs: after a server crash (not a clean shutdown) PostgreSQL empties these tables, and a
    /// standby never has them. Every lease held then is gone, and so is fenced state; a <c>ChannelPool</c> writes its
    /// member list again on its next acquire (code that calls the store directly calls <c>SetPoolMembersAsync</c>
    /// again), and fencing tokens keep growing through the clock term (max(last + 1, clock in µs)) as long as the
    /// server clock moved on. That is what the peer's advisory locks and a Redis without persistence give too. The
    /// idempotency tables stay logged. The option decides how <c>EnsureSchemaAsync</c> (and
    /// <c>leasing schema --postgres --unlogged</c>) create missing tables; tables that exist are never altered, because
    /// a switch rewrites each table under an exclusive lock: run <c>ALTER TABLE … SET UNLOGGED</c> (or <c>SET LOGGED</c>)
    /// on the four tables yourself, at low traffic. Ignored on SQLite.
    /// </summary>
    /// <value>The default is <see langword="false"/>: logged tables.</value>
    public bool UnloggedLeaseTables { get; set; }

    /// <summary>
    /// Whether the stores create their tables. When on, <c>EnsureSchemaAsync</c> (and so the host start of
    /// <c>AddSqlLeasing</c>, <c>AddSqliteLeasing</c> and <c>AddPostgresLeasing</c>) creates missing tables, indexes and
    /// version rows. When off, no DDL is ever run: <c>EnsureSchemaAsync</c> only reads the version rows and throws
    /// <see cref="InvalidOperationException"/> when the tables are missing or newer than this release; a DBA applies
    /// the DDL of <see cref="SqlLeasingSchema.GetScript(SqlDialect, SqlLeasingOptions)"/> (<c>leasing schema --postgres</c> prints it) beforehand.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool EnsureSchema { get; set; } = true;

    /// <summary>
    /// PostgreSQL only: receives the release and completion notifications the stores send (NOTIFY, only
    /// while a waiter has said it waits), so waiters in other processes wake at once. Without one,
    /// waiters in other processes poll. <c>AddPostgresLeasing</c> sets an Npgsql one.
    /// </summary>
    /// <value>The default is <see langword="null"/>: signals reach this process only.</value>
    public ISqlNotificationChannel? Notifications { get; set; }
}
