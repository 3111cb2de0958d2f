using Leasing.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Leasing.Sql.Tests.Sqlite;

/// <summary>
/// SQLite on a fresh temp file per test. SQLite has no clock of its own: the store's TimeProvider is
/// its clock, so the suites drive it with a <see cref="FakeTimeProvider"/> as they do in memory.
/// </summary>
public sealed class SqliteLeaseBackend : LeaseBackend
{
    private readonly SqliteDatabase database = new();
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);

    public override string Name => "sqlite";

    public override TimeProvider TimeProvider => clock;

    public override bool IsTimeVirtual => true;

    public override TimeSpan Ttl => TimeSpan.FromSeconds(30);

    public SqliteDatabase Database => database;

    public static async ValueTask<LeaseBackend> CreateAsync()
    {
        var backend = new SqliteLeaseBackend();
        await ((SqlLeaseStore)backend.CreateStore()).EnsureSchemaAsync();
        return backend;
    }

    public override ILeaseStore CreateStore() => new SqlLeaseStore(database.DataSource, SqlDialect.Sqlite, new SqlLeasingOptions { TimeProvider = clock });

    public override ValueTask PassAsync(TimeSpan duration)
    {
        clock.Advance(duration);
        return ValueTask.CompletedTask;
    }

    public override async ValueTask DisposeAsync()
    {
        await database.DisposeAsync();
        await base.DisposeAsync();
    }
}
