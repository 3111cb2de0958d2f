using FluentAssertions;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>
/// LISTEN/NOTIFY between two "processes": separate data sources (so no shared in-process signals), one
/// listening through <see cref="NpgsqlNotificationChannel"/>, the other releasing or completing.
/// </summary>
public sealed class PostgresNotificationTests(PostgresTables tables) : IClassFixture<PostgresTables>
{
    [Fact]
    public async Task PoolRelease_InAnotherProcess_WakesTheSubscriber()
    {
        await using var listenerSource = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        await using var channel = new NpgsqlNotificationChannel(listenerSource);
        var waiting = new SqlLeaseStore(listenerSource, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = tables.Prefix, Notifications = channel });
        var releasing = new SqlLeaseStore(tables.DataSource, SqlDialect.PostgreSql, tables.Options);
        var pool = Unique.Name("pool");
        var other = Unique.Name("other");
        await releasing.SetPoolMembersAsync(pool, ["a"]);
        await releasing.SetPoolMembersAsync(other, ["a"]);
        var signals = 0;
        var otherSignals = 0;

        await using (await waiting.SubscribeToReleasesAsync(pool, () => Interlocked.Increment(ref signals)))
        await using (await waiting.SubscribeToReleasesAsync(other, () => Interlocked.Increment(ref otherSignals)))
        {
            var lease = await releasing.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1));
            (await releasing.ReleaseAsync(lease!)).Should().BeTrue();

            await Eventually.TrueAsync(() => Volatile.Read(ref signals) == 1, "the release in the other process is announced");
            Volatile.Read(ref otherSignals).Should().Be(0, "only the released pool's waiters are woken");
        }
    }

    [Fact]
    public async Task IdempotencyCompletion_InAnotherProcess_WakesTheSubscriber()
    {
        await using var listenerSource = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        await using var channel = new NpgsqlNotificationChannel(listenerSource);
        var waiting = new SqlIdempotencyStore(listenerSource, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = tables.Prefix, Notifications = channel });
        var completing = new SqlIdempotencyStore(tables.DataSource, SqlDialect.PostgreSql, tables.Options);
        var key = Unique.Name();
        var signals = 0;

        await using (await waiting.SubscribeToCompletionAsync(key, () => Interlocked.Increment(ref signals)))
        {
            var claim = await completing.TryClaimAsync(key, "fp", TimeSpan.FromMinutes(1));
            (await completing.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), TimeSpan.FromMinutes(1))).Should().BeTrue();

            await Eventually.TrueAsync(() => Volatile.Read(ref signals) == 1, "the completion in the other process is announced");
        }
    }

    [Fact]
    public async Task Release_WithNobodyWaiting_SendsNoNotification()
    {
        await using var listener = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        await using var connection = await listener.OpenConnectionAsync();
        var received = 0;
        connection.Notification += (_, _) => Interlocked.Increment(ref received);
        await using (var listen = new NpgsqlCommand($"LISTEN {tables.Prefix}release", connection))
        {
            await listen.ExecuteNonQueryAsync();
        }

        var store = new SqlLeaseStore(tables.DataSource, SqlDialect.PostgreSql, tables.Options);
        var pool = Unique.Name("unwatched");
        await store.SetPoolMembersAsync(pool, ["a"]);
        var lease = await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1));
        (await store.ReleaseAsync(lease!)).Should().BeTrue();

        // A round trip on the listening connection delivers anything sent before it.
        await using (var ping = new NpgsqlCommand("SELECT 1", connection))
        {
            await ping.ExecuteScalarAsync();
        }

        received.Should().Be(0, "no marker says anyone waits on this pool, so no NOTIFY is sent");
    }
}
