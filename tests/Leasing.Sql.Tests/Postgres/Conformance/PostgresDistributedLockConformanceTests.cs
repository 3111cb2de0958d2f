using Leasing.Testing;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

public sealed class PostgresDistributedLockConformanceTests(PostgresTables tables) : DistributedLockConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new PostgresLeaseBackend(tables));
}
