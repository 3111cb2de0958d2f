using Leasing.Testing;

namespace Leasing.Sql.Tests.Sqlite;

public sealed class SqliteIdempotentExecutorConformanceTests : IdempotentExecutorConformanceTests
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => SqliteIdempotencyBackend.CreateAsync();
}
