namespace Leasing.Sql;

/// <summary>The SQL dialect a <see cref="SqlLeaseStore"/> or <see cref="SqlIdempotencyStore"/> speaks.</summary>
public enum SqlDialect
{
    /// <summary>
    /// SQLite 3.35 or later (Microsoft.Data.Sqlite): the embedded default, for one host with a local
    /// disk. The clock is <see cref="SqlLeasingOptions.TimeProvider"/>, passed as a parameter; the file
    /// runs in WAL mode with a busy timeout, so several processes can share it.
    /// </summary>
    Sqlite,

    /// <summary>PostgreSQL 12 or later (Npgsql): the distributed default. The clock is the server's <c>clock_timestamp()</c>.</summary>
    PostgreSql,
}
