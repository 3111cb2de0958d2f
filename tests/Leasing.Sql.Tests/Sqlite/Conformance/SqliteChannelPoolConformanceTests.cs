using Leasing.Testing;

namespace Leasing.Sql.Tests.Sqlite;

public sealed class SqliteChannelPoolConformanceTests : ChannelPoolConformanceTests
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => SqliteLeaseBackend.CreateAsync();
}
