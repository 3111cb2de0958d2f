using Npgsql;
using StackExchange.Redis;

namespace Leasing.Benchmarks;

/// <summary>Removes what one run wrote: only names carrying its run id, never anything else on a shared server.</summary>
internal static class Cleanup
{
    public static async Task<int> RedisAsync(IConnectionMultiplexer redis, string runId)
    {
        var db = redis.GetDatabase();
        var batch = new List<RedisKey>(1_000);
        var removed = 0;
        await foreach (var key in redis.GetServers()[0].KeysAsync(db.Database, $"*{runId}*", pageSize: 1_000).ConfigureAwait(false))
        {
            batch.Add(key);
            if (batch.Count == 1_000)
            {
                removed += (int)await db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            removed += (int)await db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>
    /// Advisory locks still held by sessions named <paramref name="applicationName"/> (the peer's
    /// connections): they are released with their handles and vanish with their connections.
    /// </summary>
    public static async Task<long> PostgresAdvisoryLocksAsync(NpgsqlDataSource dataSource, string applicationName)
    {
        await using var count = dataSource.CreateCommand(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name = $1");
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = applicationName });
        return (long)(await count.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    /// <summary>Drops the tables whose names start with <paramref name="tablePrefix"/> (a prefix made of the run id).</summary>
    public static async Task<int> PostgresAsync(NpgsqlDataSource dataSource, string tablePrefix)
    {
        if (!tablePrefix.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException("A table prefix is letters, digits and underscores.", nameof(tablePrefix));
        }

        var tables = new List<string>();
        await using (var list = dataSource.CreateCommand(
            "SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END || ' IF EXISTS ' || quote_ident(c.relname) || ' CASCADE' " +
            "FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'S') AND starts_with(c.relname, $1)"))
        {
            list.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tablePrefix });
            await using var reader = await list.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                tables.Add(reader.GetString(0));
            }
        }

        foreach (var table in tables)
        {
            await using var drop = dataSource.CreateCommand("DROP " + table);
            await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return tables.Count;
    }
}
