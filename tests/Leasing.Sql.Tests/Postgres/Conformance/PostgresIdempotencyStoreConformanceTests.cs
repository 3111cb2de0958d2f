using Leasing.Testing;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

public sealed class PostgresIdempotencyStoreConformanceTests(PostgresTables tables) : IdempotencyStoreConformanceTests, IClassFixture<PostgresTables>
{
    protected override ValueTask<IdempotencyBackend> CreateBackendAsync() => ValueTask.FromResult<IdempotencyBackend>(new PostgresIdempotencyBackend(tables));
}
