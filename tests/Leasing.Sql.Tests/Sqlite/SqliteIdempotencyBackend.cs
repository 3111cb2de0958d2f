using Leasing.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Leasing.Sql.Tests.Sqlite;

/// <summary>SQLite on a fresh temp file per test; its clock is the store's TimeProvider, so a fake one drives it.</summary>
public sealed class SqliteIdempotencyBackend : IdempotencyBackend
{
    private readonly SqliteDatabase database = new();
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);

    public override string Name => "sqlite";

    public override TimeProvider TimeProvider => clock;

    public override bool IsTimeVirtual => true;

    public override TimeSpan Ttl => TimeSpan.FromSeconds(30);

    public static async ValueTask<IdempotencyBackend> CreateAsync()
    {
        var backend = new SqliteIdempotencyBackend();
        await ((SqlIdempotencyStore)backend.CreateStore()).EnsureSchemaAsync();
        return backend;
    }

    public override IIdempotencyStore CreateStore() => new SqlIdempotencyStore(database.DataSource, SqlDialect.Sqlite, new SqlLeasingOptions { TimeProvider = clock });

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
