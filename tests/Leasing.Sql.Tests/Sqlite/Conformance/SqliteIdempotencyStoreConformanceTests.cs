using Leasing.Testing;

namespace Leasing.Sql.Tests.Sqlite;

public sealed class SqliteIdempotencyStoreConformanceTests : IdempotencyStoreConformanceTests
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => SqliteIdempotencyBackend.CreateAsync();
}
