using Leasing.Testing;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

// Pools renew in the background every LeaseDuration/3: 2 s leases keep a loaded CI machine from missing a renewal.
public sealed class PostgresChannelPoolConformanceTests(PostgresTables tables) : ChannelPoolConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new PostgresLeaseBackend(tables, SqlTestTimes.PoolTtl));
}
