namespace Leasing.Sql;

/// <summary>
/// The statements of <see cref="SqlLeaseStore"/>, one per operation, built once from the dialect and the
/// checked table names. Times are microseconds since the Unix epoch from the database clock: PostgreSQL's
/// clock_timestamp() read once per statement (the <c>clock</c> CTE), or the SQLite parameter @now.
/// </summary>
/// <remarks>
/// Row states: 0 free, 1 held, 2 cooling down; a held or cooling row whose expires_at has passed is free.
/// Pool members keep <c>lru</c> (the pool sequence at their last acquisition) and, while free,
/// <c>free_lru</c> = lru. PostgreSQL picks from one partial index by (pool, lru), stepping over held
/// members, so that every write but the claim is a HOT update; SQLite keeps the free members in a partial
/// index by free_lru and the held and cooling ones in one by expiry, from which expired ones are taken back.
/// </remarks>
internal sealed class LeaseStatements
{
    public LeaseStatements(SqlRunner runner)
    {
        var n = runner.Names;
        var pg = runner.Dialect == SqlDialect.PostgreSql;
        var now = pg ? "(SELECT now_us FROM clock)" : "@now";
        var with = pg ? $"WITH {Clock}\n" : string.Empty;
        var withMore = pg ? $"WITH {Clock},\n" : "WITH ";
        var max = pg ? "GREATEST" : "MAX";
        var nextLru = pg ? $"nextval('{n.LruSequence}')" : $"(SELECT COALESCE(MAX(lru), 0) + 1 FROM {n.Members} WHERE pool = @pool)";
        var p = runner.Preamble;

        // Single keys -----------------------------------------------------------------------------

        // Claims a free, released, cooled-down or expired key; returns nothing when it is busy.
        Acquire = p + with + $"""
            INSERT INTO {n.Leases} (name, token, state, fencing, expires_at, acquired_at)
            VALUES (@name, @token, 1, {now}, {now} + @ttl, {now})
            ON CONFLICT (name) DO UPDATE SET token = excluded.token, state = 1,
                fencing = {max}({n.Leases}.fencing + 1, excluded.acquired_at),
                expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
            WHERE {n.Leases}.state = 0 OR {n.Leases}.expires_at <= excluded.acquired_at
            RETURNING fencing, expires_at
            """;

        // Extends a lease still held under @token; never re-creates an expired one.
        Renew = p + with + $"""
            UPDATE {n.Leases} SET expires_at = {now} + @ttl
            WHERE name = @name AND token = @token AND state = 1 AND expires_at > {now}
            RETURNING fencing, expires_at
            """;

        // Frees a lease still held under @token; the fencing counter stays, expires_at keeps the release
        // time (a free row ignores it) so the purge knows when the row's last lease ended.
        Release = p + with + $"""
            UPDATE {n.Leases} SET state = 0, token = NULL, expires_at = {now}
            WHERE name = @name AND token = @token AND state = 1 AND expires_at > {now}
            RETURNING 1
            """;

        // Blocks the key until now + @ttl when it is ours or free (our lease expired and nobody took it).
        Cooldown = p + with + $"""
            INSERT INTO {n.Leases} (name, token, state, fencing, expires_at, acquired_at)
            VALUES (@name, NULL, 2, 0, {now} + @ttl, NULL)
            ON CONFLICT (name) DO UPDATE SET token = NULL, state = 2, expires_at = excluded.expires_at
            WHERE {n.Leases}.state = 0 OR {n.Leases}.expires_at <= {now} OR {n.Leases}.token = @token
            RETURNING 1
            """;

        // Frees a held or cooling key whoever holds it (expires_at keeps the release time, as in Release).
        ForceRelease = p + with + $"""
            UPDATE {n.Leases} SET state = 0, token = NULL, expires_at = {now}
            WHERE name = @name AND state <> 0 AND expires_at > {now}
            RETURNING 1
            """;

        // The rows of a JSON array of keys, in its order (missing keys as NULLs), with the clock.
        Inspect = p + (pg
            ? $"""
              WITH {Clock},
              input AS (SELECT value AS name, ordinality AS pos FROM json_array_elements_text(CAST(@names AS json)) WITH ORDINALITY)
              """
            : "WITH input AS (SELECT value AS name, key AS pos FROM json_each(@names))") + $"""

            SELECT l.state, l.expires_at, l.acquired_at, l.fencing, {now}
            FROM input LEFT JOIN {n.Leases} l ON l.name = input.name
            ORDER BY input.pos
            """;

        // Fenced state: upserted only while the lease row says the lease is live under @token (PostgreSQL:
        // the row share-locked, so a concurrent acquire by another commits after the write, never before it).
        // Single keys have pool '' (a pool name is never empty). SQLite needs the WHERE before ON CONFLICT.
        var share = pg ? " FOR SHARE" : string.Empty;
        string StateUpsert(string pool, string name, string live) => p + with + $"""
            INSERT INTO {n.State} (pool, name, data, fencing, written_at)
            SELECT {pool}, {name}, @data, fencing, {now} FROM ({live}{share}) live WHERE 1 = 1
            ON CONFLICT (pool, name) DO UPDATE SET data = excluded.data, fencing = excluded.fencing, written_at = excluded.written_at
            RETURNING 1
            """;

        WriteState = StateUpsert("''", "@name", $"""
            SELECT fencing FROM {n.Leases} WHERE name = @name AND token = @token AND state = 1 AND expires_at > {now}
            """);

        WriteMemberState = StateUpsert("@pool", "@member", $"""
            SELECT fencing FROM {n.Members}
            WHERE pool = @pool AND member = @member AND token = @token AND state = 1 AND expires_at > {now} AND is_member = 1
            """);

        ReadState = p + $"SELECT data, fencing, written_at FROM {n.State} WHERE pool = '' AND name = @name";

        // A removed member's state is deleted with its removal (and again when it is added back), and never read.
        ReadMemberState = p + $"""
            SELECT s.data, s.fencing, s.written_at FROM {n.State} s
            JOIN {n.Members} m ON m.pool = s.pool AND m.member = s.name
            WHERE s.pool = @pool AND s.name = @member AND m.is_member = 1
            """;

        // Pools -------------------------------------------------------------------------------------

        // The pool acquires check the caller's members version in the same step as the claim (@version
        // = -1: no check): claim only while the stored list is at least as new, and otherwise answer one
        // row (NULL, NULL, NULL, stored version or NULL when the pool is unknown) and write nothing.
        // Rows: (member, fencing, expires_at, stored version); none when every candidate is busy.
        var current = $"(@version < 0 OR EXISTS (SELECT 1 FROM {n.Pools} WHERE pool = @pool AND version >= @version))";
        var outdated = $"SELECT NULL, NULL, NULL, (SELECT version FROM {n.Pools} WHERE pool = @pool) WHERE NOT {current}";

        // PostgreSQL: one statement, the claim a CTE after `ctes`. SQLite (no UPDATE in a CTE): the outdated
        // row first, then the guarded claim; a list written between the two lets the claim go through
        // (the claimed row wins) or, when it then finds all busy, reports outdated once more: nothing is
        // claimed either way, and the caller's rewrite changes nothing.
        string VersionChecked(string ctes, string claim) => p + (pg
            ? $"""
              WITH {Clock},
              {ctes}claimed AS (
              {claim}
              RETURNING {n.Members}.member, {n.Members}.fencing, {n.Members}.expires_at)
              SELECT member, fencing, expires_at, NULL FROM claimed
              UNION ALL
              {outdated}
              """
            : $"""
              {outdated};
              {claim}
              RETURNING member, fencing, expires_at;
              """);

        // Picks the least recently acquired member that is free (released, never taken, or its lease or
        // cooldown over) and claims it. PostgreSQL: one walk of the _pick index in LRU order, one SKIP LOCKED,
        // the claim joined back on the key (not the ctid: a row claimed and released by others after this
        // statement's snapshot was taken has a new version the snapshot cannot see by ctid, and the claim
        // would find nothing while the member is free; by key, the update follows the locked newest version).
        // Release, renew and cooldown change no indexed column there, so they are HOT updates (fillfactor 70
        // leaves room on the page); only the claim moves the row in _pick.
        AcquireLeastRecentlyUsed = pg
            ? VersionChecked(
                $"""
                pick AS (
                    SELECT member FROM {n.Members}
                    WHERE pool = @pool AND is_member = 1 AND (state = 0 OR expires_at <= {now}) AND {current}
                    ORDER BY lru, member LIMIT 1 FOR UPDATE SKIP LOCKED),

                """,
                $"""
                UPDATE {n.Members} SET token = @token, state = 1, fencing = GREATEST({n.Members}.fencing + 1, {now}),
                    expires_at = {now} + @ttl, acquired_at = {now}, lru = {nextLru}, free_lru = NULL
                FROM pick
                WHERE {n.Members}.pool = @pool AND {n.Members}.member = pick.member
                """)
            : VersionChecked(
                string.Empty,
                $"""
                UPDATE {n.Members} SET token = @token, state = 1, fencing = MAX(fencing + 1, @now),
                    expires_at = @now + @ttl, acquired_at = @now, lru = {nextLru}, free_lru = NULL
                WHERE pool = @pool AND {current} AND member = (
                    SELECT member FROM (
                        SELECT * FROM (SELECT member, lru FROM {n.Members}
                            WHERE pool = @pool AND is_member = 1 AND free_lru IS NOT NULL
                            ORDER BY free_lru, member LIMIT 1)
                        UNION ALL
                        SELECT * FROM (SELECT member, lru FROM {n.Members}
                            WHERE pool = @pool AND is_member = 1 AND free_lru IS NULL AND expires_at <= @now
                            ORDER BY lru, member LIMIT 1))
                    ORDER BY lru, member LIMIT 1)
                """);

        // PostgreSQL group commit: claims up to one member per token of the JSON array @tokens, the least recently
        // acquired to the first token, in one walk of the _pick index (the same pick as above, LIMIT the count).
        // Rows: (member, fencing, expires_at, NULL, token) per claim; or the outdated row (with a NULL token).
        AcquireLeastRecentlyUsedMany = pg
            ? p + $"""
              WITH {Clock},
              pick AS (
                  SELECT member, lru FROM {n.Members}
                  WHERE pool = @pool AND is_member = 1 AND (state = 0 OR expires_at <= {now}) AND {current}
                  ORDER BY lru, member LIMIT @count FOR UPDATE SKIP LOCKED),
              numbered AS (SELECT member, row_number() OVER (ORDER BY lru, member) AS pos FROM pick),
              tokens AS (SELECT value AS token, ordinality AS pos FROM json_array_elements_text(CAST(@tokens AS json)) WITH ORDINALITY),
              claimed AS (
                  UPDATE {n.Members} SET token = tokens.token, state = 1, fencing = GREATEST({n.Members}.fencing + 1, {now}),
                      expires_at = {now} + @ttl, acquired_at = {now}, lru = {nextLru}, free_lru = NULL
                  FROM numbered JOIN tokens ON tokens.pos = numbered.pos
                  WHERE {n.Members}.pool = @pool AND {n.Members}.member = numbered.member
                  RETURNING {n.Members}.member, {n.Members}.fencing, {n.Members}.expires_at, tokens.token)
              SELECT member, fencing, expires_at, NULL, token FROM claimed
              UNION ALL
              SELECT NULL, NULL, NULL, (SELECT version FROM {n.Pools} WHERE pool = @pool), NULL WHERE NOT {current}
              """
            : string.Empty;

        // PostgreSQL group commit: frees the members of the JSON array @releases ([member, token] pairs) held under
        // their tokens, as ReleaseMember does one by one; NOTIFYs once (identical notifications of one transaction
        // are folded) while a waiter's marker says someone waits. Rows: (member, token) per release that freed.
        // The rows are locked in member order, as SetMembers locks them, so the two never wait on each other in a
        // cycle (a grouped claim never waits: SKIP LOCKED).
        ReleaseMembers = pg
            ? p + $"""
              WITH {Clock},
              input AS (SELECT value->>0 AS member, value->>1 AS token FROM json_array_elements(CAST(@releases AS json))),
              locked AS (
                  SELECT m.member, m.token FROM {n.Members} m JOIN input ON m.member = input.member AND m.token = input.token
                  WHERE m.pool = @pool AND m.state = 1 AND m.expires_at > {now}
                  ORDER BY m.member FOR UPDATE OF m),
              changed AS (
                  UPDATE {n.Members} SET state = 0, token = NULL, expires_at = NULL, free_lru = lru
                  FROM locked
                  WHERE {n.Members}.pool = @pool AND {n.Members}.member = locked.member AND {n.Members}.token = locked.token
                      AND {n.Members}.state = 1 AND {n.Members}.expires_at > {now}
                  RETURNING {n.Members}.member, locked.token),
              notified AS (
                  SELECT pg_notify('{n.Prefix}release', @pool) FROM {n.Waiters}
                  WHERE kind = 'release' AND name = @pool AND until > {now} AND EXISTS (SELECT 1 FROM changed))
              SELECT member, token FROM changed WHERE (SELECT count(*) FROM notified) >= 0
              """
            : string.Empty;

        // Claims one named current member when it is free.
        AcquireMember = VersionChecked(
            string.Empty,
            $"""
            UPDATE {n.Members} SET token = @token, state = 1, fencing = {max}(fencing + 1, {now}),
                expires_at = {now} + @ttl, acquired_at = {now}, lru = {nextLru}, free_lru = NULL
            WHERE pool = @pool AND member = @member AND is_member = 1 AND (state = 0 OR expires_at <= {now}) AND {current}
            """);

        RenewMember = p + with + $"""
            UPDATE {n.Members} SET expires_at = {now} + @ttl
            WHERE pool = @pool AND member = @member AND token = @token AND state = 1 AND expires_at > {now}
            RETURNING fencing, expires_at
            """;

        // Frees a member held under @token back into the free index at its acquisition position
        // (PostgreSQL: and NOTIFYs, only while a waiter's marker row says someone waits on the pool).
        ReleaseMember = pg
            ? Notifying(n, "release", "@pool", $"""
              UPDATE {n.Members} SET state = 0, token = NULL, expires_at = NULL, free_lru = lru
              WHERE pool = @pool AND member = @member AND token = @token AND state = 1 AND expires_at > {now}
              """)
            : p + $"""
              UPDATE {n.Members} SET state = 0, token = NULL, expires_at = NULL, free_lru = lru
              WHERE pool = @pool AND member = @member AND token = @token AND state = 1 AND expires_at > {now}
              RETURNING 1
              """;

        // Blocks a member that is ours or free until now + @ttl; it keeps its lru for afterwards.
        CooldownMember = p + with + $"""
            UPDATE {n.Members} SET state = 2, token = NULL, expires_at = {now} + @ttl, free_lru = NULL
            WHERE pool = @pool AND member = @member AND (state = 0 OR expires_at <= {now} OR token = @token)
            RETURNING 1
            """;

        ForceReleaseMember = pg
            ? Notifying(n, "release", "@pool", $"""
              UPDATE {n.Members} SET state = 0, token = NULL, expires_at = NULL, free_lru = lru
              WHERE pool = @pool AND member = @member AND state <> 0 AND expires_at > {now}
              """)
            : p + $"""
              UPDATE {n.Members} SET state = 0, token = NULL, expires_at = NULL, free_lru = lru
              WHERE pool = @pool AND member = @member AND state <> 0 AND expires_at > {now}
              RETURNING 1
              """;

        InspectPool = p + with + $"""
            SELECT member, state, expires_at, acquired_at, fencing, {now}
            FROM {n.Members} WHERE pool = @pool AND is_member = 1 ORDER BY member
            """;

        GetMembers = p + $"SELECT member FROM {n.Members} WHERE pool = @pool AND is_member = 1 ORDER BY member";

        // Applies a member list (JSON array) when @version is at least the stored one: adds new members
        // (never acquired: first in LRU order), re-adds removed ones with their counters, removes the rest.
        // PostgreSQL: the pool's row is created if missing and locked first, in the same implicit transaction
        // (one batch: one round trip), so the member statement's snapshot is taken after any concurrent writer of
        // the pool committed. Without the lock, two writers of equal versions each remove only the members their
        // own (older) snapshot saw, and both lists survive as a union.
        SetMembers = pg
            ? $"""
              INSERT INTO {n.Pools} (pool, version) VALUES (@pool, @version) ON CONFLICT (pool) DO NOTHING;
              SELECT 1 FROM {n.Pools} WHERE pool = @pool FOR UPDATE;
              SELECT 1 FROM {n.Members} WHERE pool = @pool ORDER BY member FOR UPDATE;
              WITH input AS (SELECT DISTINCT value AS member FROM json_array_elements_text(CAST(@members AS json))),
              applied AS (
                  INSERT INTO {n.Pools} (pool, version) VALUES (@pool, @version)
                  ON CONFLICT (pool) DO UPDATE SET version = excluded.version WHERE {n.Pools}.version <= excluded.version
                  RETURNING pool),
              added AS (
                  INSERT INTO {n.Members} (pool, member, is_member, state, fencing, lru, free_lru)
                  SELECT @pool, member, 1, 0, 0, 0, 0 FROM input WHERE EXISTS (SELECT 1 FROM applied)
                  ON CONFLICT (pool, member) DO UPDATE SET is_member = 1 WHERE {n.Members}.is_member = 0
                  RETURNING member),
              removed AS (
                  UPDATE {n.Members} SET is_member = 0
                  WHERE pool = @pool AND is_member = 1 AND EXISTS (SELECT 1 FROM applied)
                    AND NOT EXISTS (SELECT 1 FROM input WHERE input.member = {n.Members}.member)
                  RETURNING member),
              dropped AS (
                  DELETE FROM {n.State} WHERE pool = @pool
                    AND name IN (SELECT member FROM removed UNION ALL SELECT member FROM added))
              SELECT (SELECT count(*) FROM added) + (SELECT count(*) FROM removed)
              """
            : p + $"""
              BEGIN IMMEDIATE;
              INSERT INTO {n.Members} (pool, member, is_member, state, fencing, lru, free_lru)
              SELECT @pool, value, 1, 0, 0, 0, 0 FROM json_each(@members)
              WHERE NOT EXISTS (SELECT 1 FROM {n.Pools} WHERE pool = @pool AND version > @version)
              ON CONFLICT (pool, member) DO UPDATE SET is_member = 1 WHERE {n.Members}.is_member = 0;
              UPDATE {n.Members} SET is_member = 0
              WHERE pool = @pool AND is_member = 1
                AND NOT EXISTS (SELECT 1 FROM {n.Pools} WHERE pool = @pool AND version > @version)
                AND member NOT IN (SELECT value FROM json_each(@members));
              DELETE FROM {n.State} WHERE pool = @pool
                AND name IN (SELECT member FROM {n.Members} WHERE pool = @pool AND is_member = 0);
              INSERT INTO {n.Pools} (pool, version) VALUES (@pool, @version)
              ON CONFLICT (pool) DO UPDATE SET version = excluded.version WHERE {n.Pools}.version <= excluded.version;
              COMMIT;
              """;

        // Purge ---------------------------------------------------------------------------------------

        // Deletes up to @batch single-key rows whose last lease or cooldown ended at least @keep ago and whose
        // fencing counter is at least @keep behind the clock, so the clock term of the fencing rule puts the
        // next token above every earlier one. Legacy free rows without an end time go on the counter alone.
        // Pool member rows are never purged: they carry the member's fencing counter and LRU position.
        var purgeable = $"fencing <= {now} - @keep AND (expires_at <= {now} - @keep OR (expires_at IS NULL AND state = 0))";
        PurgeLeases = p + (pg
            ? $"""
              WITH {Clock},
              doomed AS (SELECT name FROM {n.Leases} WHERE {purgeable} LIMIT @batch FOR UPDATE SKIP LOCKED)
              DELETE FROM {n.Leases} USING doomed WHERE {n.Leases}.name = doomed.name
              RETURNING 1
              """
            : $"""
              DELETE FROM {n.Leases} WHERE rowid IN (SELECT rowid FROM {n.Leases} WHERE {purgeable} LIMIT @batch)
              RETURNING 1
              """);
    }

    /// <summary>
    /// PostgreSQL: deletes up to @batch marker rows of @kind whose waiter stopped renewing them (until has passed).
    /// A live waiter renews its marker every minute; a stale one only makes releases send a NOTIFY nobody needs.
    /// </summary>
    public static string PurgeWaiters(SqlNames n) => $"""
        WITH {Clock},
        doomed AS (
            SELECT kind, name FROM {n.Waiters} WHERE kind = @kind AND until <= (SELECT now_us FROM clock)
            LIMIT @batch FOR UPDATE SKIP LOCKED)
        DELETE FROM {n.Waiters} USING doomed WHERE {n.Waiters}.kind = doomed.kind AND {n.Waiters}.name = doomed.name
        RETURNING 1
        """;

    /// <summary>
    /// PostgreSQL: runs <paramref name="update"/> and, when it changed a row and a marker row says someone
    /// waits on <paramref name="nameParameter"/>, NOTIFYs the channel of <paramref name="kind"/> with the name;
    /// returns one row when the update changed one. Still one statement.
    /// </summary>
    public static string Notifying(SqlNames n, string kind, string nameParameter, string update) => $"""
        WITH {Clock},
        changed AS ({update} RETURNING 1 AS done),
        notified AS (
            SELECT pg_notify('{n.Prefix}{kind}', {nameParameter}) FROM {n.Waiters}
            WHERE kind = '{kind}' AND name = {nameParameter} AND until > (SELECT now_us FROM clock) AND EXISTS (SELECT 1 FROM changed))
        SELECT done FROM changed WHERE (SELECT count(*) FROM notified) >= 0
        """;

    /// <summary>PostgreSQL: marks that this process waits on the names in @names (a JSON array) until now + @ttl.</summary>
    public static string MarkWaiting(SqlNames n) => $"""
        WITH {Clock}
        INSERT INTO {n.Waiters} (kind, name, until)
        SELECT @kind, value, (SELECT now_us FROM clock) + @ttl FROM json_array_elements_text(CAST(@names AS json))
        ON CONFLICT (kind, name) DO UPDATE SET until = GREATEST({n.Waiters}.until, excluded.until)
        """;

    /// <summary>
    /// The DDL of the lease tables (leases, pools, members, state, waiters), idempotent (IF NOT EXISTS). PostgreSQL:
    /// the leases, pools, members and state tables are created <c>UNLOGGED</c> when <paramref name="unlogged"/> is set.
    /// Existing tables are never altered: a persistence switch rewrites a table under an exclusive lock, which is a
    /// DBA's decision to make at low traffic, not a side effect of a host start. The waiters table, shared with the
    /// idempotency tables, stays logged.
    /// </summary>
    public static string Schema(SqlNames n, SqlDialect dialect, bool unlogged) => dialect == SqlDialect.PostgreSql
        ? $"""
              CREATE {Persistence(unlogged)}TABLE IF NOT EXISTS {n.Leases} (
                  name text COLLATE "C" PRIMARY KEY, token text, state integer NOT NULL, fencing bigint NOT NULL,
                  expires_at bigint, acquired_at bigint);
              CREATE {Persistence(unlogged)}TABLE IF NOT EXISTS {n.Pools} (pool text COLLATE "C" PRIMARY KEY, version bigint NOT NULL);
              CREATE {Persistence(unlogged)}TABLE IF NOT EXISTS {n.Members} (
                  pool text COLLATE "C" NOT NULL, member text COLLATE "C" NOT NULL, is_member integer NOT NULL,
                  token text, state integer NOT NULL, fencing bigint NOT NULL, expires_at bigint, acquired_at bigint,
                  lru bigint NOT NULL, free_lru bigint, PRIMARY KEY (pool, member)) WITH (fillfactor = 70);
              ALTER TABLE {n.Members} SET (fillfactor = 70);
              CREATE INDEX IF NOT EXISTS {n.Members}_pick ON {n.Members} (pool, lru, member) WHERE is_member = 1;
              DROP INDEX IF EXISTS {n.Members}_free;
              DROP INDEX IF EXISTS {n.Members}_busy;
              CREATE SEQUENCE IF NOT EXISTS {n.LruSequence};
              CREATE INDEX IF NOT EXISTS {n.Leases}_ended ON {n.Leases} (expires_at);
              CREATE {Persistence(unlogged)}TABLE IF NOT EXISTS {n.State} (
                  pool text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, data bytea NOT NULL,
                  fencing bigint NOT NULL, written_at bigint NOT NULL, PRIMARY KEY (pool, name));
              """ + "\n" + WaitersTable(n)
        : $"""
              CREATE TABLE IF NOT EXISTS {n.Leases} (
                  name TEXT PRIMARY KEY, token TEXT, state INTEGER NOT NULL, fencing INTEGER NOT NULL,
                  expires_at INTEGER, acquired_at INTEGER) STRICT;
              CREATE TABLE IF NOT EXISTS {n.Pools} (pool TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;
              CREATE TABLE IF NOT EXISTS {n.Members} (
                  pool TEXT NOT NULL, member TEXT NOT NULL, is_member INTEGER NOT NULL,
                  token TEXT, state INTEGER NOT NULL, fencing INTEGER NOT NULL, expires_at INTEGER, acquired_at INTEGER,
                  lru INTEGER NOT NULL, free_lru INTEGER, PRIMARY KEY (pool, member)) STRICT;
              CREATE INDEX IF NOT EXISTS {n.Members}_free ON {n.Members} (pool, free_lru, member) WHERE is_member = 1 AND free_lru IS NOT NULL;
              CREATE INDEX IF NOT EXISTS {n.Members}_busy ON {n.Members} (pool, expires_at) WHERE is_member = 1 AND free_lru IS NULL;
              CREATE INDEX IF NOT EXISTS {n.Members}_lru ON {n.Members} (pool, lru);
              CREATE INDEX IF NOT EXISTS {n.Leases}_ended ON {n.Leases} (expires_at);
              CREATE TABLE IF NOT EXISTS {n.State} (
                  pool TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
                  fencing INTEGER NOT NULL, written_at INTEGER NOT NULL, PRIMARY KEY (pool, name)) STRICT;
              """;

    private static string Persistence(bool unlogged) => unlogged ? "UNLOGGED " : string.Empty;

    /// <summary>PostgreSQL: the marker table.</summary>
    public static string WaitersTable(SqlNames n) =>
        $"CREATE TABLE IF NOT EXISTS {n.Waiters} (kind text NOT NULL, name text COLLATE \"C\" NOT NULL, until bigint NOT NULL, PRIMARY KEY (kind, name));";

    private const string Clock = "clock AS (SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS bigint) AS now_us)";

    public string Acquire { get; }

    public string Renew { get; }

    public string Release { get; }

    public string Cooldown { get; }

    public string ForceRelease { get; }

    public string Inspect { get; }

    public string WriteState { get; }

    public string WriteMemberState { get; }

    public string ReadState { get; }

    public string ReadMemberState { get; }

    public string AcquireLeastRecentlyUsed { get; }

    public string AcquireMember { get; }

    /// <summary>PostgreSQL only (empty on SQLite): the grouped LRU acquire.</summary>
    public string AcquireLeastRecentlyUsedMany { get; }

    /// <summary>PostgreSQL only (empty on SQLite): the grouped release of pool members.</summary>
    public string ReleaseMembers { get; }

    public string RenewMember { get; }

    public string ReleaseMember { get; }

    public string CooldownMember { get; }

    public string ForceReleaseMember { get; }

    public string InspectPool { get; }

    public string GetMembers { get; }

    public string SetMembers { get; }

    public string PurgeLeases { get; }
}
