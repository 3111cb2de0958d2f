using Npgsql;
using StackExchange.Redis;
#if REDIS_STORE
using Leasing.Redis;
#endif
#if SQL_STORE
using Leasing.Sql;
#endif

namespace Leasing.Benchmarks;

/// <summary>The library's stores on the benchmark servers, with names that carry the run id.</summary>
internal static class Backends
{
    /// <summary>The table prefix of one run's PostgreSQL tables.</summary>
    public static string PostgresTablePrefix(string runId) => $"bench_{runId}_";

    /// <summary>The Redis lease store on <paramref name="redis"/>; <see langword="null"/> while this build has none.</summary>
    public static ILeaseStore? Redis(IConnectionMultiplexer redis) =>
#if REDIS_STORE
        new RedisLeaseStore(redis);
#else
        null;
#endif

    /// <summary>The PostgreSQL lease store on <paramref name="dataSource"/> in tables of its own, schema created; <see langword="null"/> while this build has none.</summary>
    public static async Task<ILeaseStore?> PostgresAsync(NpgsqlDataSource dataSource, string runId)
    {
#if SQL_STORE
        var store = new SqlLeaseStore(dataSource, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = PostgresTablePrefix(runId) });
        await store.EnsureSchemaAsync().ConfigureAwait(false);
        return store;
#else
        await Task.CompletedTask.ConfigureAwait(false);
        return null;
#endif
    }
}
