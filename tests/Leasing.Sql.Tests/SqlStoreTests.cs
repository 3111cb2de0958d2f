using Leasing.Sql.Tests.Postgres;
using Leasing.Sql.Tests.Sqlite;
using Leasing.Sql.Tests.Support;
using Leasing.Testing;
using FluentAssertions;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests;

/// <summary>What the SQL stores promise beyond the conformance suite: one command per operation, injection-proof keys and names, outages.</summary>
public abstract class SqlStoreTests
{
    /// <summary>Keys that would break a statement built from strings.</summary>
    public static TheoryData<string> HostileKeys => new()
    {
        "it's",
        "a'; DROP TABLE leasing_leases; --",
        "x\" OR \"1\"=\"1",
        "-- comment",
        "/* open comment",
        "end */ ; SELECT 1;",
        "back\\slash%_wild*card?",
        "{leasing:pool:hash}tag",
        "ümlaut €uro 😀",
        "$1 @name :name ?",
    };

    protected abstract SqlDialect Dialect { get; }

    /// <summary>A data source over the backend, for this test, and its cleanup.</summary>
    protected abstract Task<(System.Data.Common.DbDataSource Source, SqlLeasingOptions Options, IAsyncDisposable Cleanup)> OpenAsync();

    [Fact]
    public async Task EveryOperation_IsOneCommand()
    {
        var (source, options, cleanup) = await OpenAsync();
        await using var _ = cleanup;
        var counting = new CountingDataSource(source);
        var store = new SqlLeaseStore(counting, Dialect, options);
        var pool = Unique.Name("pool");
        var key = Unique.Name();

        async Task<T> OneCommand<T>(string what, Func<Task<T>> call)
        {
            var before = counting.Commands;
            var result = await call();
            (counting.Commands - before).Should().Be(1, $"{what} is one statement");
            return result;
        }

        await OneCommand("SetPoolMembersAsync", async () => { await store.SetPoolMembersAsync(pool, Enumerable.Range(0, 100).Select(i => $"m{i}").ToArray()); return 0; });
        var lease = await OneCommand("TryAcquireAsync", () => store.TryAcquireAsync(key, TimeSpan.FromMinutes(1)).AsTask());
        lease = await OneCommand("RenewAsync", () => store.RenewAsync(lease!, TimeSpan.FromMinutes(1)).AsTask());
        await OneCommand("InspectAsync", () => store.InspectAsync([key, Unique.Name()]).AsTask());
        await OneCommand("ReleaseWithCooldownAsync", () => store.ReleaseWithCooldownAsync(lease!, TimeSpan.FromMinutes(1)).AsTask());
        await OneCommand("ForceReleaseAsync", () => store.ForceReleaseAsync(key).AsTask());
        var member = await OneCommand("TryAcquireLeastRecentlyUsedAsync", () => store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)).AsTask());
        member = await OneCommand("RenewAsync (member)", () => store.RenewAsync(member!, TimeSpan.FromMinutes(1)).AsTask());
        (await OneCommand("ReleaseAsync (member)", () => store.ReleaseAsync(member!).AsTask())).Should().BeTrue();
        var named = await OneCommand("TryAcquirePoolMemberAsync", () => store.TryAcquirePoolMemberAsync(pool, "m7", TimeSpan.FromMinutes(1)).AsTask());
        named.Should().NotBeNull();
        await OneCommand("InspectPoolAsync", () => store.InspectPoolAsync(pool).AsTask());
        await OneCommand("GetPoolMembersAsync", () => store.GetPoolMembersAsync(pool).AsTask());
        (await OneCommand("ReleaseAsync", () => store.ReleaseAsync(named!).AsTask())).Should().BeTrue();
        (await OneCommand("TryAcquireLeastRecentlyUsedAsync (versioned)", () => store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1), membersVersion: 0).AsTask())).Should().NotBeNull();
        (await OneCommand("TryAcquirePoolMemberAsync (versioned)", () => store.TryAcquirePoolMemberAsync(pool, "m8", TimeSpan.FromMinutes(1), membersVersion: 0).AsTask())).Should().NotBeNull();
        await OneCommand("TryAcquireLeastRecentlyUsedAsync (outdated)", async () =>
        {
            var act = async () => await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1), membersVersion: 1);
            return (await act.Should().ThrowAsync<PoolMembersOutdatedException>()).Which.StoredVersion.Should().Be(0);
        });
        await OneCommand("TryAcquirePoolMemberAsync (unknown pool)", async () =>
        {
            var act = async () => await store.TryAcquirePoolMemberAsync(Unique.Name("pool"), "m0", TimeSpan.FromMinutes(1), membersVersion: 0);
            return (await act.Should().ThrowAsync<PoolMembersOutdatedException>()).Which.StoredVersion.Should().BeNull();
        });
        (await OneCommand("TryAcquireLeastRecentlyUsedAsync (all busy)", async () =>
        {
            var all = new SqlLeaseStore(source, Dialect, options);
            await all.SetPoolMembersAsync(pool + "-1", ["only"]);
            await all.TryAcquireLeastRecentlyUsedAsync(pool + "-1", TimeSpan.FromMinutes(1));
            return await store.TryAcquireLeastRecentlyUsedAsync(pool + "-1", TimeSpan.FromMinutes(1));
        })).Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(HostileKeys))]
    public async Task HostileKeysAndPoolNames_AreStoredAndFoundAsThemselves(string hostile)
    {
        var (source, options, cleanup) = await OpenAsync();
        await using var _ = cleanup;
        var store = new SqlLeaseStore(source, Dialect, options);
        var key = hostile + Unique.Name();
        var pool = hostile + Unique.Name("pool");
        string[] members = [hostile, hostile + "'2", "plain"];

        var lease = await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1));
        await store.SetPoolMembersAsync(pool, members);
        var member = await store.TryAcquirePoolMemberAsync(pool, hostile, TimeSpan.FromMinutes(1));

        lease.Should().NotBeNull();
        lease!.Key.Should().Be(key);
        (await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1))).Should().BeNull("the key is held under its exact text");
        (await store.InspectAsync([key])).Single().Should().Match<LeaseState>(s => s.Key == key && s.Status == LeaseStatus.Held);
        (await store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(members);
        member!.Key.Should().Be(hostile);
        member.Pool.Should().Be(pool);
        (await store.InspectPoolAsync(pool)).Single(s => s.Key == hostile).Status.Should().Be(LeaseStatus.Held);
        (await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)))!.Key.Should().BeOneOf(members[1], members[2]);
        (await store.ReleaseAsync(lease)).Should().BeTrue();
        (await store.ReleaseAsync(member)).Should().BeTrue();
        (await store.InspectAsync([hostile])).Single().FencingToken.Should().Be(0, "only the key with the suffix was written");
    }

    [Theory]
    [InlineData("leasing; DROP TABLE x")]
    [InlineData("a-b")]
    [InlineData("1abc")]
    [InlineData("")]
    [InlineData("name\"quote")]
    [InlineData("public.leasing_")]
    [InlineData("a_prefix_that_is_much_too_long_for_the_limit_of_forty")]
    public void Constructor_TablePrefixNotAnIdentifier_ThrowsNamingTheOption(string prefix)
    {
        var source = new CountingDataSource(new NpgsqlDataSourceBuilder("Host=127.0.0.1").Build());

        var act = () => new SqlLeaseStore(source, Dialect, new SqlLeasingOptions { TablePrefix = prefix });

        act.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*TablePrefix*");
        source.Commands.Should().Be(0);
    }

    [Fact]
    public void Constructor_BadTimeoutOrDialect_Throws()
    {
        var source = new NpgsqlDataSourceBuilder("Host=127.0.0.1").Build();

        FluentActions.Invoking(() => new SqlLeaseStore(source, Dialect, new SqlLeasingOptions { CommandTimeout = TimeSpan.Zero }))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*CommandTimeout*");
        FluentActions.Invoking(() => new SqlLeaseStore(source, (SqlDialect)7))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("dialect");
        FluentActions.Invoking(() => new SqlLeaseStore(null!, Dialect))
            .Should().Throw<ArgumentNullException>();
    }
}

public sealed class SqliteStoreTests : SqlStoreTests
{
    protected override SqlDialect Dialect => SqlDialect.Sqlite;

    protected override async Task<(System.Data.Common.DbDataSource, SqlLeasingOptions, IAsyncDisposable)> OpenAsync()
    {
        var database = new SqliteDatabase();
        await new SqlLeaseStore(database.DataSource, SqlDialect.Sqlite).EnsureSchemaAsync();
        return (database.DataSource, new SqlLeasingOptions(), database);
    }

    [Fact]
    public async Task EnsureSchemaAsync_SwitchesTheFileToWal()
    {
        await using var database = new SqliteDatabase();
        await new SqlLeaseStore(database.DataSource, SqlDialect.Sqlite).EnsureSchemaAsync();

        await using var command = database.DataSource.CreateCommand("PRAGMA journal_mode");
        (await command.ExecuteScalarAsync()).Should().Be("wal");
    }

    [Fact]
    public async Task Operations_BeforeEnsureSchema_ThrowUnavailableWithTheDriverError()
    {
        await using var database = new SqliteDatabase();
        var store = new SqlLeaseStore(database.DataSource, SqlDialect.Sqlite);

        var thrown = await FluentActions.Awaiting(() => store.TryAcquireAsync("k", TimeSpan.FromSeconds(1)).AsTask())
            .Should().ThrowAsync<LeaseStoreUnavailableException>();
        thrown.Which.InnerException.Should().BeAssignableTo<System.Data.Common.DbException>();
    }
}

public sealed class PostgresStoreTests(PostgresTables tables) : SqlStoreTests, IClassFixture<PostgresTables>
{
    protected override SqlDialect Dialect => SqlDialect.PostgreSql;

    protected override Task<(System.Data.Common.DbDataSource, SqlLeasingOptions, IAsyncDisposable)> OpenAsync() =>
        Task.FromResult<(System.Data.Common.DbDataSource, SqlLeasingOptions, IAsyncDisposable)>((tables.DataSource, tables.Options, new NoCleanup()));

    [Fact]
    public async Task ServerDown_ThrowsUnavailableWithinTheTimeout()
    {
        // A port nobody listens on: connection refused at once.
        await using var source = NpgsqlDataSource.Create("Host=127.0.0.1;Port=9;Timeout=2");
        var store = new SqlLeaseStore(source, SqlDialect.PostgreSql, new SqlLeasingOptions { CommandTimeout = TimeSpan.FromSeconds(2) });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var thrown = await FluentActions.Awaiting(() => store.TryAcquireLeastRecentlyUsedAsync("pool", TimeSpan.FromSeconds(1)).AsTask())
            .Should().ThrowAsync<LeaseStoreUnavailableException>();

        thrown.Which.InnerException.Should().NotBeNull();
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CallerCancellation_ThrowsOperationCanceled()
    {
        var store = new SqlLeaseStore(tables.DataSource, SqlDialect.PostgreSql, tables.Options);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await FluentActions.Awaiting(() => store.TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(1), cancelled.Token).AsTask())
            .Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Fencing_ComesFromTheServerClockInMicroseconds()
    {
        var store = new SqlLeaseStore(tables.DataSource, SqlDialect.PostgreSql, tables.Options);
        await using var command = tables.DataSource.CreateCommand("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS bigint)");
        var before = (long)(await command.ExecuteScalarAsync())!;

        var lease = await store.TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(10));

        lease!.FencingToken.Should().BeGreaterThanOrEqualTo(before).And.BeLessThan(before + 60_000_000);
        (lease.ExpiresAt - SqlLeaseStore.Time(lease.FencingToken)).Should().BeCloseTo(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(1));
    }

    private sealed class NoCleanup : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
