namespace Leasing.Sql;

/// <summary>
/// The statements of <see cref="SqlIdempotencyStore"/>, one per operation. Times are microseconds from the
/// database clock (PostgreSQL clock_timestamp() in the <c>clock</c> CTE; SQLite @now). Status codes follow
/// <see cref="IdempotencyStatus"/>: 0 in progress, 1 succeeded, 2 failed, 3 released. A record is live while
/// present = 1 and record_expires_at has not passed; evicted or expired rows keep their fencing counter.
/// </summary>
internal sealed class IdempotencyStatements
{
    /// <summary>How long an unfinished (in progress or released) record outlives its lease.</summary>
    public static readonly TimeSpan UnfinishedRetention = TimeSpan.FromDays(1);

    public IdempotencyStatements(SqlRunner runner)
    {
        var t = runner.Names.Idempotency;
        var pg = runner.Dialect == SqlDialect.PostgreSql;
        var now = pg ? "(SELECT now_us FROM clock)" : "@now";
        var with = pg ? "WITH clock AS (SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS bigint) AS now_us)\n" : string.Empty;
        var max = pg ? "GREATEST" : "MAX";
        var p = runner.Preamble;
        var live = $"({t}.present = 1 AND {t}.record_expires_at > {now})";
        var claimable = $"(NOT {live} OR ({t}.fingerprint = excluded.fingerprint AND ({t}.status = 3 OR ({t}.status = 0 AND {t}.lease_expires_at <= {now}))))";
        string Pick(string column) => $"{column} = CASE WHEN {claimable} THEN excluded.{column} ELSE {t}.{column} END";
        const string Columns = "key, present, status, fingerprint, owner_token, lease_expires_at, record_expires_at, result, attempt, fencing";

        // Claims an absent, expired, released or lease-expired key in one compare-and-set; otherwise the row
        // keeps every value. Either way the row comes back: the returned owner token says who won.
        Claim = p + with + $"""
            INSERT INTO {t} ({Columns})
            VALUES (@key, 1, 0, @fingerprint, @owner, {now} + @lease, {now} + @lease + @unfinished, NULL, 1, {now})
            ON CONFLICT (key) DO UPDATE SET
                attempt = CASE WHEN NOT {live} THEN 1 WHEN {claimable} THEN {t}.attempt + 1 ELSE {t}.attempt END,
                fencing = CASE WHEN {claimable} THEN {max}({t}.fencing + 1, {now}) ELSE {t}.fencing END,
                {Pick("present")}, {Pick("status")}, {Pick("fingerprint")}, {Pick("owner_token")},
                {Pick("lease_expires_at")}, {Pick("record_expires_at")}, {Pick("result")}
            RETURNING {Columns}, {now}
            """;

        var owned = $"key = @key AND present = 1 AND record_expires_at > {now} AND status = 0 AND owner_token = @owner";

        // Extends the owner's unexpired claim.
        Heartbeat = p + with + $"""
            UPDATE {t} SET lease_expires_at = {now} + @lease, record_expires_at = {now} + @lease + @unfinished
            WHERE {owned} AND lease_expires_at > {now}
            RETURNING 1
            """;

        // Stores the outcome of the owner's claim (also just past its lease if nobody reclaimed the key).
        Complete = pg
            ? LeaseStatements.Notifying(runner.Names, "complete", "@key", $"""
            UPDATE {t} SET status = @status, owner_token = NULL, result = @result,
                lease_expires_at = {now} + @retention, record_expires_at = {now} + @retention
            WHERE {owned}
            """)
            : p + $"""
            UPDATE {t} SET status = @status, owner_token = NULL, result = @result,
                lease_expires_at = {now} + @retention, record_expires_at = {now} + @retention
            WHERE {owned}
            RETURNING 1
            """;

        // Gives the owner's claim up: claimable again at once, fingerprint and attempt kept.
        Release = pg
            ? LeaseStatements.Notifying(runner.Names, "complete", "@key", $"""
            UPDATE {t} SET status = 3, owner_token = NULL, lease_expires_at = {now}, record_expires_at = {now} + @unfinished
            WHERE {owned}
            """)
            : p + $"""
            UPDATE {t} SET status = 3, owner_token = NULL, lease_expires_at = {now}, record_expires_at = {now} + @unfinished
            WHERE {owned}
            RETURNING 1
            """;

        Get = p + with + $"""
            SELECT {Columns}, {now} FROM {t}
            WHERE key = @key AND present = 1 AND record_expires_at > {now}
            """;

        // Deletes a live record; the row (and its fencing counter) stays.
        Evict = pg
            ? LeaseStatements.Notifying(runner.Names, "complete", "@key", $"""
            UPDATE {t} SET present = 0, owner_token = NULL, result = NULL
            WHERE key = @key AND present = 1 AND record_expires_at > {now}
            """)
            : p + $"""
            UPDATE {t} SET present = 0, owner_token = NULL, result = NULL
            WHERE key = @key AND present = 1 AND record_expires_at > {now}
            RETURNING 1
            """;

        // Deletes up to @batch records past their end, payload and all: a completed one at the end of its
        // retention, an unfinished one (in progress, released, evicted) a day after its claim ended, as on Redis.
        Purge = p + (pg
            ? $"""
              {with}, doomed AS (SELECT key FROM {t} WHERE record_expires_at <= {now} LIMIT @batch FOR UPDATE SKIP LOCKED)
              DELETE FROM {t} USING doomed WHERE {t}.key = doomed.key
              RETURNING 1
              """
            : $"""
              DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} WHERE record_expires_at <= {now} LIMIT @batch)
              RETURNING 1
              """);

    }

    public string Claim { get; }

    public string Heartbeat { get; }

    public string Complete { get; }

    public string Release { get; }

    public string Get { get; }

    public string Evict { get; }

    public string Purge { get; }

    /// <summary>The DDL of the idempotency table (and, on PostgreSQL, the waiters table), idempotent (IF NOT EXISTS).</summary>
    public static string Schema(SqlNames n, SqlDialect dialect)
    {
        var t = n.Idempotency;
        return dialect == SqlDialect.PostgreSql
            ? $"""
                  CREATE TABLE IF NOT EXISTS {t} (
                      key text COLLATE "C" PRIMARY KEY, present integer NOT NULL, status integer NOT NULL, fingerprint text NOT NULL,
                      owner_token text, lease_expires_at bigint NOT NULL, record_expires_at bigint NOT NULL, result bytea,
                      attempt integer NOT NULL, fencing bigint NOT NULL);
                  CREATE INDEX IF NOT EXISTS {t}_ended ON {t} (record_expires_at);
                  """ + "\n" + LeaseStatements.WaitersTable(n)
            : $"""
                  CREATE TABLE IF NOT EXISTS {t} (
                      key TEXT PRIMARY KEY, present INTEGER NOT NULL, status INTEGER NOT NULL, fingerprint TEXT NOT NULL,
                      owner_token TEXT, lease_expires_at INTEGER NOT NULL, record_expires_at INTEGER NOT NULL, result BLOB,
                      attempt INTEGER NOT NULL, fencing INTEGER NOT NULL) STRICT;
                  CREATE INDEX IF NOT EXISTS {t}_ended ON {t} (record_expires_at);
                  """;
    }
}
