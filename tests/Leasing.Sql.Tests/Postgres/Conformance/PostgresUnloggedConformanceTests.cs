using Leasing.Testing;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>
/// The lease store suite (every statement of the single-key and pool paths) on UNLOGGED lease tables: the option
/// changes durability, never the semantics. The pool suite above the store is not run twice.
/// </summary>
public sealed class PostgresUnloggedLeaseStoreConformanceTests(PostgresUnloggedTables tables) : LeaseStoreConformanceTests, IClassFixture<PostgresUnloggedTables>
{
    protected override ValueTask<LeaseBackend> CreateBackendAsync() => ValueTask.FromResult<LeaseBackend>(new PostgresLeaseBackend(tables));
}
