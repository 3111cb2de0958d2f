using System.Data.Common;
using FluentAssertions;
using Leasing.Sql.Tests.Postgres;
using Leasing.Sql.Tests.Sqlite;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests;

/// <summary>
/// Issue 10, defect 4: the SQL stores delete what is past its retention (and nothing that is not), and fencing
/// still grows after a lock row is gone. Each test reads the tables directly: "gone" means no row at all.
/// </summary>
public abstract class SqlPurgeTests
{
    protected abstract SqlDialect Dialect { get; }

    protected abstract DbDataSource Source { get; }

    protected abstract SqlLeasingOptions Options { get; }

    protected abstract string Prefix { get; }

    [Fact]
    public async Task PurgeExpiredAsync_RemovesIdempotencyRecordsPastTheirRetentionWithTheirPayload_KeepsTheOthers()
    {
        var store = new SqlIdempotencyStore(Source, Dialect, Options);
        var expired = Unique.Name("expired");
        var retained = Unique.Name("retained");
        var live = Unique.Name("live");
        var released = Unique.Name("released");
        var first = await CompleteAsync(store, expired, TimeSpan.FromMinutes(1));
        await CompleteAsync(store, retained, TimeSpan.FromDays(1));
        (await store.TryClaimAsync(live, "fp", TimeSpan.FromMinutes(10))).Outcome.Should().Be(ClaimOutcome.Claimed);
        var claim = await store.TryClaimAsync(released, "fp", TimeSpan.FromMinutes(10));
        (await store.ReleaseAsync(released, claim.OwnerToken!)).Should().BeTrue();

        await PassAsync(TimeSpan.FromMinutes(2));
        var removed = await store.PurgeExpiredAsync();

        removed.Should().BeGreaterThanOrEqualTo(1);
        (await CountAsync("idempotency", "key", expired)).Should().Be(0, "the record's retention has passed: key, payload and all go");
        (await CountAsync("idempotency", "key", retained)).Should().Be(1, "its retention has not passed");
        (await CountAsync("idempotency", "key", live)).Should().Be(1, "an unexpired claim is live");
        (await CountAsync("idempotency", "key", released)).Should().Be(1, "a released record is kept a day, as on Redis");
        (await store.GetAsync(retained))!.Result!.Value.ToArray().Should().Equal("receipt"u8.ToArray());
        var again = await store.TryClaimAsync(expired, "fp", TimeSpan.FromMinutes(1));
        again.Outcome.Should().Be(ClaimOutcome.Claimed, "nothing is left of the purged record");
        again.Existing!.Attempt.Should().Be(1);
        again.FencingToken.Should().BeGreaterThan(first, "the clock term keeps fencing growing after the row is gone");
    }

    [Fact]
    public async Task PurgeExpiredAsync_RemovesAbandonedAndReleasedClaimsADayAfterTheirClaimEnded()
    {
        var store = new SqlIdempotencyStore(Source, Dialect, Options);
        var abandoned = Unique.Name("abandoned");
        var released = Unique.Name("released");
        (await store.TryClaimAsync(abandoned, "fp", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Claimed);
        var claim = await store.TryClaimAsync(released, "fp", TimeSpan.FromMinutes(1));
        (await store.ReleaseAsync(released, claim.OwnerToken!)).Should().BeTrue();

        await PassAsync(TimeSpan.FromHours(23));
        await store.PurgeExpiredAsync();
        (await CountAsync("idempotency", "key", abandoned)).Should().Be(1, "less than a day has passed since its lease ran out");
        (await CountAsync("idempotency", "key", released)).Should().Be(1, "less than a day has passed since its release");

        await PassAsync(TimeSpan.FromHours(2));
        (await store.PurgeExpiredAsync()).Should().BeGreaterThanOrEqualTo(2);

        (await CountAsync("idempotency", "key", abandoned)).Should().Be(0);
        (await CountAsync("idempotency", "key", released)).Should().Be(0);
    }

    [Fact]
    public async Task PurgeExpiredAsync_RemovesLockRowsADayPastTheirEnd_KeepsPoolMembers_AndFencingStillGrows()
    {
        var store = new SqlLeaseStore(Source, Dialect, Options);
        var key = Unique.Name("key");
        var cooled = Unique.Name("cooled");
        var pool = Unique.Name("pool");
        var tokens = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            var lease = await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1));
            tokens.Add(lease!.FencingToken);
            (await store.ReleaseAsync(lease)).Should().BeTrue();
        }

        tokens.Add((await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1)))!.FencingToken); // left to expire
        var cooling = await store.TryAcquireAsync(cooled, TimeSpan.FromMinutes(1));
        (await store.ReleaseWithCooldownAsync(cooling!, TimeSpan.FromMinutes(1))).Should().BeTrue();
        await store.SetPoolMembersAsync(pool, ["m"]);
        var member = await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1));
        (await store.ReleaseAsync(member!)).Should().BeTrue();

        await PassAsync(TimeSpan.FromHours(23));
        await store.PurgeExpiredAsync();
        (await CountAsync("leases", "name", key)).Should().Be(1, "its last lease ended less than a day ago");
        (await CountAsync("leases", "name", cooled)).Should().Be(1, "its cooldown ended less than a day ago");
        var held = Unique.Name("held");
        (await store.TryAcquireAsync(held, TimeSpan.FromDays(1))).Should().NotBeNull();

        await PassAsync(TimeSpan.FromHours(2));
        (await store.PurgeExpiredAsync()).Should().BeGreaterThanOrEqualTo(2);

        (await CountAsync("leases", "name", key)).Should().Be(0, "its last lease ended more than a day ago");
        (await CountAsync("leases", "name", cooled)).Should().Be(0, "its cooldown ended more than a day ago");
        (await CountAsync("leases", "name", held)).Should().Be(1, "a held lease is never purged");
        (await CountAsync("pool_members", "pool", pool)).Should().Be(1, "member rows keep the member's fencing counter and LRU position");
        var fresh = await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1));
        fresh!.FencingToken.Should().BeGreaterThan(tokens.Max(), "the clock term of the fencing rule dominates a day later");
        (await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)))!.FencingToken.Should().BeGreaterThan(member!.FencingToken);
    }

    [Fact]
    public async Task PurgeExpiredAsync_InBatches_RemovesMoreRowsThanOneBatch()
    {
        var store = new SqlIdempotencyStore(Source, Dialect, Options);
        var keys = Enumerable.Range(0, SqlPurge.BatchSize + 20).Select(i => Unique.Name($"k{i}-")).ToList();
        foreach (var chunk in keys.Chunk(50))
        {
            await Task.WhenAll(chunk.Select(k => CompleteAsync(store, k, TimeSpan.FromMinutes(1))));
        }

        await PassAsync(TimeSpan.FromMinutes(2));
        var removed = await store.PurgeExpiredAsync();

        removed.Should().BeGreaterThanOrEqualTo(keys.Count);
        (await CountAsync("idempotency", "key", keys[0])).Should().Be(0);
        (await CountAsync("idempotency", "key", keys[^1])).Should().Be(0);
    }

    [Fact]
    public async Task SetPoolMembersAsync_EqualVersionsRacing_EndWithOneOfTheListsNeverTheUnion()
    {
        // Issue 10: on PostgreSQL each writer removed only the members its own snapshot saw, so both lists survived.
        string[] a = ["a1", "a2", "a3"];
        string[] b = ["b1", "b2", "b3"];
        for (var i = 0; i < 40; i++)
        {
            var pool = Unique.Name($"pool{i}-");
            var first = new SqlLeaseStore(Source, Dialect, Options);
            var second = new SqlLeaseStore(Source, Dialect, Options);
            if (i % 2 == 0)
            {
                await first.SetPoolMembersAsync(pool, ["old"], version: 1);
            }

            using var start = new Barrier(2);
            await Task.WhenAll(
                Task.Run(async () => { start.SignalAndWait(); await first.SetPoolMembersAsync(pool, a, version: 2); }),
                Task.Run(async () => { start.SignalAndWait(); await second.SetPoolMembersAsync(pool, b, version: 2); }));

            var members = await first.GetPoolMembersAsync(pool);
            members.Should().Match<IReadOnlyList<string>>(m => m.SequenceEqual(a) || m.SequenceEqual(b), $"round {i}: one writer's list wins whole, got [{string.Join(", ", members)}]");
        }
    }

    /// <summary>Lets <paramref name="duration"/> pass for the stored rows.</summary>
    protected abstract Task PassAsync(TimeSpan duration);

    protected async Task<long> CountAsync(string table, string column, string value)
    {
        await using var command = Source.CreateCommand($"SELECT count(*) FROM {Prefix}{table} WHERE {column} = @v");
        var parameter = command.CreateParameter();
        parameter.ParameterName = "v";
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> CompleteAsync(SqlIdempotencyStore store, string key, TimeSpan retention)
    {
        var claim = await store.TryClaimAsync(key, "fp", TimeSpan.FromMinutes(1));
        claim.Outcome.Should().Be(ClaimOutcome.Claimed);
        (await store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "receipt"u8.ToArray(), retention)).Should().BeTrue();
        return claim.FencingToken;
    }
}

/// <summary>SQLite: its clock is the options' TimeProvider, so time passes by advancing a fake one.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes the database through IAsyncLifetime.DisposeAsync.")]
public sealed class SqlitePurgeTests : SqlPurgeTests, IAsyncLifetime
{
    private readonly SqliteDatabase database = new();
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);

    protected override SqlDialect Dialect => SqlDialect.Sqlite;

    protected override DbDataSource Source => database.DataSource;

    protected override SqlLeasingOptions Options => new() { TimeProvider = clock };

    protected override string Prefix => "leasing_";

    public async Task InitializeAsync()
    {
        await new SqlLeaseStore(Source, Dialect, Options).EnsureSchemaAsync();
        await new SqlIdempotencyStore(Source, Dialect, Options).EnsureSchemaAsync();
    }

    public async Task DisposeAsync() => await database.DisposeAsync();

    protected override Task PassAsync(TimeSpan duration)
    {
        clock.Advance(duration);
        return Task.CompletedTask;
    }
}

/// <summary>
/// PostgreSQL decides time by its own clock, which no fake can move: time "passes" for the stored rows by moving
/// every stored time of the class's tables back by the duration (fencing counters too, as the clock made them).
/// </summary>
public sealed class PostgresPurgeTests(PostgresTables tables) : SqlPurgeTests, IClassFixture<PostgresTables>
{
    protected override SqlDialect Dialect => SqlDialect.PostgreSql;

    protected override DbDataSource Source => tables.DataSource;

    protected override SqlLeasingOptions Options => tables.Options;

    protected override string Prefix => tables.Prefix;

    [Fact]
    public async Task PurgeExpiredAsync_RemovesStaleWaiterMarkers_KeepsLiveOnes()
    {
        // A data source of its own: the in-process signals (and so the notification channel) are per data source.
        await using var source = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        var options = new SqlLeasingOptions { TablePrefix = tables.Prefix, Notifications = new SilentChannel() };
        var leases = new SqlLeaseStore(source, SqlDialect.PostgreSql, options);
        var idempotency = new SqlIdempotencyStore(source, SqlDialect.PostgreSql, options);
        var stalePool = Unique.Name("stale");
        var livePool = Unique.Name("live");
        var staleKey = Unique.Name("key");
        await (await leases.SubscribeToReleasesAsync(stalePool, () => { })).DisposeAsync();
        await (await idempotency.SubscribeToCompletionAsync(staleKey, () => { })).DisposeAsync();
        (await CountAsync("waiters", "name", stalePool)).Should().Be(1);

        await PassAsync(TimeSpan.FromMinutes(4));
        await using var live = await leases.SubscribeToReleasesAsync(livePool, () => { });
        await leases.PurgeExpiredAsync();

        (await CountAsync("waiters", "name", stalePool)).Should().Be(0, "nobody renewed the marker: its waiter left");
        (await CountAsync("waiters", "name", livePool)).Should().Be(1, "its waiter renews it");
        (await CountAsync("waiters", "name", staleKey)).Should().Be(1, "the lease store purges release markers only");
        await idempotency.PurgeExpiredAsync();
        (await CountAsync("waiters", "name", staleKey)).Should().Be(0);
    }

    protected override async Task PassAsync(TimeSpan duration)
    {
        var p = tables.Prefix;
        await using var command = tables.DataSource.CreateCommand($"""
            UPDATE {p}leases SET fencing = fencing - @d, expires_at = expires_at - @d, acquired_at = acquired_at - @d;
            UPDATE {p}pool_members SET fencing = fencing - @d, expires_at = expires_at - @d, acquired_at = acquired_at - @d;
            UPDATE {p}idempotency SET fencing = fencing - @d, lease_expires_at = lease_expires_at - @d, record_expires_at = record_expires_at - @d;
            UPDATE {p}waiters SET until = until - @d;
            """);
        command.Parameters.AddWithValue("d", SqlLeaseStore.Micro(duration));
        await command.ExecuteNonQueryAsync();
    }

    private sealed class SilentChannel : ISqlNotificationChannel
    {
        public ValueTask<IAsyncDisposable> ListenAsync(string channel, Action<string> onNotification, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IAsyncDisposable>(new Nothing());

        private sealed class Nothing : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
