using Leasing.Testing;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

public sealed class PostgresIdempotentExecutorConformanceTests(PostgresTables tables) : IdempotentExecutorConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => ValueTask.FromResult<IdempotencyBackend>(new PostgresIdempotencyBackend(tables));
}
