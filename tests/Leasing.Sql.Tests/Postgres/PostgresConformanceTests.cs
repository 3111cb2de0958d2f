using Leasing.Testing;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

public sealed class PostgresLeaseStoreConformanceTests(PostgresTables tables) : LeaseStoreConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new PostgresLeaseBackend(tables));
}

// Pools renew in the background every LeaseDuration/3: 2 s leases keep a loaded CI machine from missing a renewal.
public sealed class PostgresChannelPoolConformanceTests(PostgresTables tables) : ChannelPoolConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new PostgresLeaseBackend(tables, SqlTestTimes.PoolTtl));
}

public sealed class PostgresIdempotencyStoreConformanceTests(PostgresTables tables) : IdempotencyStoreConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => ValueTask.FromResult<IdempotencyBackend>(new PostgresIdempotencyBackend(tables));
}

public sealed class PostgresIdempotentExecutorConformanceTests(PostgresTables tables) : IdempotentExecutorConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => ValueTask.FromResult<IdempotencyBackend>(new PostgresIdempotencyBackend(tables));
}

public sealed class PostgresDistributedLockConformanceTests(PostgresTables tables) : DistributedLockConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new PostgresLeaseBackend(tables));
}
