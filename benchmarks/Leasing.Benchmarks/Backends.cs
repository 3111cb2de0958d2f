using Leasing.Redis;
using Leasing.Sql;
using Npgsql;
using StackExchange.Redis;

namespace Leasing.Benchmarks;

/// <summary>The library's stores on the benchmark servers, with names that carry the run id.</summary>
internal static class Backends
{
    /// <summary>The table prefix of one run's PostgreSQL tables.</summary>
    public static string PostgresTablePrefix(string runId) => $"bench_{runId}_";

    /// <summary>The Redis lease store on <paramref name="redis"/> (default options: scripts, no <c>WAIT</c>).</summary>
    public static ILeaseStore Redis(IConnectionMultiplexer redis) => new RedisLeaseStore(redis);

    /// <summary>The PostgreSQL lease store on <paramref name="dataSource"/> in tables of its own, schema created.</summary>
    public static async Task<ILeaseStore> PostgresAsync(NpgsqlDataSource dataSource, string runId)
    {
        var store = new SqlLeaseStore(dataSource, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = PostgresTablePrefix(runId) });
        await store.EnsureSchemaAsync().ConfigureAwait(false);
        return store;
    }
}
