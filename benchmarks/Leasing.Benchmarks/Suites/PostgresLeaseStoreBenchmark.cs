using Leasing.Benchmarks.Baselines;
using Leasing.Benchmarks.Quick;
using Npgsql;

namespace Leasing.Benchmarks.Suites;

/// <summary>The lease-store operations on <c>SqlLeaseStore</c> with PostgreSQL (<c>LEASING_POSTGRES</c>); baseline: two prepared single-row upserts.</summary>
public class PostgresLeaseStoreBenchmark : LeaseStoreBenchmark
{
    private NpgsqlDataSource _dataSource = null!;
    private RawUpsert _raw = null!;

    protected override async Task<ILeaseStore> CreateStoreAsync()
    {
        _dataSource = await Servers.ConnectPostgresAsync(Servers.Resolve().Postgres, maxPoolSize: 8);
        _raw = await RawUpsert.CreateAsync(_dataSource, $"{Backends.PostgresTablePrefix(RunId)}raw", 1);
        return await Backends.PostgresAsync(_dataSource, RunId);
    }

    protected override async ValueTask RawPairAsync() => await _raw.PairAsync(0);

    protected override async Task DisposeStoreAsync()
    {
        await Cleanup.PostgresAsync(_dataSource, Backends.PostgresTablePrefix(RunId));
        await _dataSource.DisposeAsync();
    }
}
