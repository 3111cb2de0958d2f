using Npgsql;
using StackExchange.Redis;

namespace Leasing.Benchmarks;

/// <summary>The library's stores on the benchmark servers.</summary>
internal static class Backends
{
    /// <summary>The Redis lease store on <paramref name="redis"/>; <see langword="null"/> while this build has none.</summary>
    public static ILeaseStore? Redis(IConnectionMultiplexer redis) => null;

    /// <summary>The PostgreSQL lease store on <paramref name="dataSource"/>, schema created; <see langword="null"/> while this build has none.</summary>
    public static Task<ILeaseStore?> PostgresAsync(NpgsqlDataSource dataSource, string runId) => Task.FromResult<ILeaseStore?>(null);

    /// <summary>Removes what <see cref="PostgresAsync"/> created for <paramref name="runId"/>.</summary>
    public static Task DropPostgresAsync(NpgsqlDataSource dataSource, string runId) => Task.CompletedTask;
}
