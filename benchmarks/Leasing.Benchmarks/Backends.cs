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
    public static async Task<ILeaseStore> PostgresAsync(NpgsqlDataSource dataSource, string runId, bool unlogged = false)
    {
        var store = new SqlLeaseStore(dataSource, SqlDialect.PostgreSql, new SqlLeasingOptions
        {
            TablePrefix = PostgresTablePrefix(runId) + (unlogged ? "u_" : string.Empty),
            UnloggedLeaseTables = unlogged,
        });
        await store.EnsureSchemaAsync().ConfigureAwait(false);
        return store;
    }

    /// <summary>
    /// Vacuums a SQL store's lease tables every <see cref="SqlLeasingOptions.VacuumInterval"/> (default) until
    /// disposed, as the background service of <c>AddPostgresLeasing</c> does in a host; the benchmark builds its
    /// stores without dependency injection, so it runs the same loop itself.
    /// </summary>
    public static IAsyncDisposable VacuumLikeTheHost(ILeaseStore store)
    {
        var sql = (SqlLeaseStore)store;
        var stop = new CancellationTokenSource();
        var interval = new SqlLeasingOptions().VacuumInterval;
        var loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                if (!await sql.VacuumAsync(stop.Token).ConfigureAwait(false))
                {
                    throw new InvalidOperationException("The benchmark's database role may not vacuum its tables: run it as their owner.");
                }
            }
        });
        return new Stopper(stop, loop);
    }

    private sealed class Stopper(CancellationTokenSource stop, Task loop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (loop.IsFaulted)
            {
                await loop.ConfigureAwait(false); // a failed vacuum fails the run: its figures would not be the host's
            }

            stop.Dispose();
        }
    }
}
