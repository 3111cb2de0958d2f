using Leasing.Testing;

namespace Leasing.Sql.Tests.Sqlite;

public sealed class SqliteDistributedLockConformanceTests : DistributedLockConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => SqliteLeaseBackend.CreateAsync();
}
