using Leasing.Testing;

namespace Leasing.Sql.Tests.Sqlite;

public sealed class SqliteLeaseStoreConformanceTests : LeaseStoreConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => SqliteLeaseBackend.CreateAsync();
}

public sealed class SqliteChannelPoolConformanceTests : ChannelPoolConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => SqliteLeaseBackend.CreateAsync();
}

public sealed class SqliteIdempotencyStoreConformanceTests : IdempotencyStoreConformanceTests
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => SqliteIdempotencyBackend.CreateAsync();
}

public sealed class SqliteIdempotentExecutorConformanceTests : IdempotentExecutorConformanceTests
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => SqliteIdempotencyBackend.CreateAsync();
}

public sealed class SqliteDistributedLockConformanceTests : DistributedLockConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => SqliteLeaseBackend.CreateAsync();
}
