using Leasing.Testing;

namespace Leasing.Sql.Tests.Sqlite;

public sealed class SqliteLeaseStoreConformanceTests : LeaseStoreConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => SqliteLeaseBackend.CreateAsync();
}
