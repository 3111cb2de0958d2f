using System.Collections.Concurrent;
using FluentAssertions;
using Leasing.Sql.Tests.Postgres;
using Leasing.Sql.Tests.Sqlite;
using Leasing.Sql.Tests.Support;
using Leasing.Testing.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests;

/// <summary>The background purge that AddSqliteLeasing/AddPostgresLeasing register: on its interval, on the injected clock.</summary>
public sealed class SqlPurgeServiceTests
{
    private static readonly TimeSpan Signal = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AddSqliteLeasing_PurgesEveryPurgeInterval_OnTheInjectedClock()
    {
        await using var database = new SqliteDatabase();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new RecordingLoggerFactory();
        await using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton<ILoggerFactory>(logs)
            .AddSqliteLeasing(database.Path, o => o.PurgeInterval = TimeSpan.FromMinutes(10))
            .BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        var store = provider.GetRequiredService<SqlIdempotencyStore>();
        var claim = await store.TryClaimAsync("paid", "fp", TimeSpan.FromMinutes(1));
        (await store.CompleteAsync("paid", claim.OwnerToken!, IdempotencyOutcome.Succeeded, "receipt"u8.ToArray(), TimeSpan.FromMinutes(1))).Should().BeTrue();

        clock.Advance(TimeSpan.FromMinutes(5));
        logs.Count(401).Should().Be(0, "the interval has not passed: the timer fires only inside Advance, and did not");
        (await CountAsync(database)).Should().Be(1);

        var purged = logs.WaitFor(401);
        clock.Advance(TimeSpan.FromMinutes(5));
        await purged.WaitAsync(Signal);

        (await CountAsync(database)).Should().Be(0, "the record's retention passed before the purge ran");
        foreach (var service in hosted)
        {
            await service.StopAsync(CancellationToken.None).WaitAsync(Signal);
        }
    }

    [Fact]
    public async Task BackgroundPurge_WhenAPurgeFails_LogsItAndRunsAgainAtTheNextInterval()
    {
        await using var database = new SqliteDatabase();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new RecordingLoggerFactory();
        await using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton<ILoggerFactory>(logs)
            .AddSqliteLeasing(database.Path, o => o.PurgeInterval = TimeSpan.FromMinutes(1))
            .BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        await using (var drop = database.DataSource.CreateCommand("DROP TABLE leasing_idempotency"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        var failed = logs.WaitFor(402);
        clock.Advance(TimeSpan.FromMinutes(1));
        (await failed.WaitAsync(Signal)).Exception.Should().BeOfType<LeaseStoreUnavailableException>();

        await provider.GetRequiredService<SqlIdempotencyStore>().EnsureSchemaAsync();
        var purged = logs.WaitFor(401);
        clock.Advance(TimeSpan.FromMinutes(1));
        await purged.WaitAsync(Signal);

        foreach (var service in hosted)
        {
            await service.StopAsync(CancellationToken.None).WaitAsync(Signal);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1_000)]
    [InlineData(2 * 24 * 3_600_000)]
    public void PurgeInterval_NotPositiveNorInfinite_ThrowsNamingTheOption(int milliseconds)
    {
        var source = NpgsqlDataSource.Create("Host=127.0.0.1");
        var options = new SqlLeasingOptions { PurgeInterval = TimeSpan.FromMilliseconds(milliseconds) };

        FluentActions.Invoking(() => new SqlLeaseStore(source, SqlDialect.PostgreSql, options))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*SqlLeasingOptions.PurgeInterval*");
        FluentActions.Invoking(() => new SqlIdempotencyStore(source, SqlDialect.PostgreSql, options))
            .Should().Throw<ArgumentException>().WithMessage("*SqlLeasingOptions.PurgeInterval*");
    }

    [Fact]
    public async Task PurgeInterval_Infinite_TurnsTheBackgroundPurgeOff()
    {
        await using var database = new SqliteDatabase();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new RecordingLoggerFactory();
        await using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton<ILoggerFactory>(logs)
            .AddSqliteLeasing(database.Path, o => o.PurgeInterval = Timeout.InfiniteTimeSpan)
            .BuildServiceProvider();
        foreach (var service in provider.GetServices<IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
        }

        clock.Advance(TimeSpan.FromDays(2));

        (logs.Count(401) + logs.Count(402)).Should().Be(0, "no timer exists, so Advance started no purge");
    }

    [Fact]
    public async Task AddSqliteLeasing_BadPurgeInterval_FailsTheHostStartNamingTheOption()
    {
        await using var database = new SqliteDatabase();
        await using var provider = new ServiceCollection()
            .AddSqliteLeasing(database.Path, o => o.PurgeInterval = TimeSpan.Zero)
            .BuildServiceProvider();

        var start = async () =>
        {
            foreach (var service in provider.GetServices<IHostedService>())
            {
                await service.StartAsync(CancellationToken.None);
            }
        };

        await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*PurgeInterval*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1_000)]
    [InlineData(2 * 3_600_000)]
    public void VacuumInterval_NotPositiveNorInfinite_ThrowsNamingTheOption(int milliseconds)
    {
        using var source = NpgsqlDataSource.Create("Host=127.0.0.1");
        var options = new SqlLeasingOptions { VacuumInterval = TimeSpan.FromMilliseconds(milliseconds) };

        FluentActions.Invoking(() => new SqlLeaseStore(source, SqlDialect.PostgreSql, options))
            .Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*SqlLeasingOptions.VacuumInterval*");
    }

    [Fact]
    public async Task AddPostgresLeasing_VacuumsTheLeaseTablesEveryVacuumInterval_OnTheInjectedClock()
    {
        var tables = new PostgresTables();
        await tables.InitializeAsync();
        try
        {
            await using var host = await VacuumHost.StartAsync(await PostgresServer.GetConnectionStringAsync(), tables.Prefix, TimeSpan.FromSeconds(10));
            var (clock, logs) = (host.Clock, host.Logs);

            var members = await VacuumCountAsync(tables, "pool_members");
            var leases = await VacuumCountAsync(tables, "leases");
            clock.Advance(TimeSpan.FromSeconds(5));
            logs.Count(404).Should().Be(0, "the interval has not passed: the timer fires only inside Advance, and did not");

            var vacuumed = logs.WaitFor(404);
            clock.Advance(TimeSpan.FromSeconds(5));
            await vacuumed.WaitAsync(Signal);

            (await VacuumCountAsync(tables, "pool_members")).Should().Be(members + 1, "the pool member table was vacuumed once");
            (await VacuumCountAsync(tables, "leases")).Should().Be(leases + 1, "the single-key lease table was vacuumed once");
            logs.Count(401).Should().Be(0, "the purge is off: only the vacuum has a timer");
            await host.StopAsync();
        }
        finally
        {
            await tables.DisposeAsync();
        }
    }

    [Fact]
    public async Task BackgroundVacuum_WhenAVacuumFails_LogsItAndRunsAgainAtTheNextInterval()
    {
        var tables = new PostgresTables();
        await tables.InitializeAsync();
        try
        {
            await using var host = await VacuumHost.StartAsync(await PostgresServer.GetConnectionStringAsync(), tables.Prefix, TimeSpan.FromSeconds(2));
            var (provider, clock, logs) = (host.Provider, host.Clock, host.Logs);

            await using (var drop = tables.DataSource.CreateCommand($"DROP TABLE {tables.Prefix}pool_members"))
            {
                await drop.ExecuteNonQueryAsync();
            }

            var failed = logs.WaitFor(403);
            clock.Advance(TimeSpan.FromSeconds(2));
            (await failed.WaitAsync(Signal)).Exception.Should().BeOfType<LeaseStoreUnavailableException>();

            await provider.GetRequiredService<SqlLeaseStore>().EnsureSchemaAsync();
            var vacuumed = logs.WaitFor(404);
            clock.Advance(TimeSpan.FromSeconds(2));
            await vacuumed.WaitAsync(Signal);

            await host.StopAsync();
        }
        finally
        {
            await tables.DisposeAsync();
        }
    }

    [Fact]
    public async Task VacuumAsync_RoleThatDoesNotOwnTheTables_ReturnsFalse_AndTheServiceLogsOnceAndStops()
    {
        var tables = new PostgresTables();
        await tables.InitializeAsync();
        try
        {
            // A role that may log in and read the catalog, but owns nothing (trust authentication on the test server).
            const string role = "leasing_test_not_owner";
            await using (var create = tables.DataSource.CreateCommand(
                $"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF; END $$"))
            {
                await create.ExecuteNonQueryAsync();
            }

            // The host start reads the schema version rows (EnsureSchema off): that much it may.
            await using (var grant = tables.DataSource.CreateCommand($"GRANT SELECT ON {tables.Prefix}schema TO {role}"))
            {
                await grant.ExecuteNonQueryAsync();
            }

            var connectionString = new NpgsqlConnectionStringBuilder(await PostgresServer.GetConnectionStringAsync()) { Username = role, Password = null }.ConnectionString;
            await using var source = NpgsqlDataSource.Create(connectionString);
            var members = await VacuumCountAsync(tables, "pool_members");
            var store = new SqlLeaseStore(source, SqlDialect.PostgreSql, tables.Options);

            (await store.VacuumAsync()).Should().BeFalse("the role neither owns the tables nor is a superuser");
            (await store.VacuumAsync()).Should().BeFalse("the answer is kept");
            (await VacuumCountAsync(tables, "pool_members")).Should().Be(members, "nothing was vacuumed");

            await using var host = await VacuumHost.StartAsync(connectionString, tables.Prefix, TimeSpan.FromSeconds(2), ensureSchema: false);
            var (clock, logs) = (host.Clock, host.Logs);

            var stopped = logs.WaitFor(405);
            clock.Advance(TimeSpan.FromSeconds(2));
            await stopped.WaitAsync(Signal);
            clock.Advance(TimeSpan.FromSeconds(2));
            clock.Advance(TimeSpan.FromSeconds(2));

            logs.Count(405).Should().Be(1, "the loop stopped after it said so once: no warning every interval");
            logs.Count(404).Should().Be(0);
            await host.StopAsync();
        }
        finally
        {
            await tables.DisposeAsync();
        }
    }

    [Fact]
    public async Task VacuumAsync_OnSqlite_SendsNothing()
    {
        await using var database = new SqliteDatabase();
        var counting = new CountingDataSource(database.DataSource);
        var store = new SqlLeaseStore(counting, SqlDialect.Sqlite);
        await store.EnsureSchemaAsync();
        var before = counting.Commands;

        await store.VacuumAsync();

        counting.Commands.Should().Be(before, "SQLite keeps no dead row versions, so there is nothing to vacuum");
    }

    // A PostgreSQL host whose only timer is the vacuum (purge off), on a fake clock, started.
    private sealed class VacuumHost : IAsyncDisposable
    {
        private readonly List<IHostedService> hosted;

        private VacuumHost(ServiceProvider provider, FakeTimeProvider clock, RecordingLoggerFactory logs)
        {
            Provider = provider;
            Clock = clock;
            Logs = logs;
            hosted = provider.GetServices<IHostedService>().ToList();
        }

        public ServiceProvider Provider { get; }

        public FakeTimeProvider Clock { get; }

        public RecordingLoggerFactory Logs { get; }

        public static async Task<VacuumHost> StartAsync(string connectionString, string prefix, TimeSpan interval, bool ensureSchema = true)
        {
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var logs = new RecordingLoggerFactory();
            var provider = new ServiceCollection()
                .AddSingleton<TimeProvider>(clock)
                .AddSingleton<ILoggerFactory>(logs)
                .AddPostgresLeasing(connectionString, o =>
                {
                    o.TablePrefix = prefix;
                    o.EnsureSchema = ensureSchema;
                    o.PurgeInterval = Timeout.InfiniteTimeSpan;
                    o.VacuumInterval = interval;
                })
                .BuildServiceProvider();
            var host = new VacuumHost(provider, clock, logs);
            foreach (var service in host.hosted)
            {
                await service.StartAsync(CancellationToken.None);
            }

            return host;
        }

        public async Task StopAsync()
        {
            foreach (var service in hosted)
            {
                await service.StopAsync(CancellationToken.None).WaitAsync(Signal);
            }
        }

        public ValueTask DisposeAsync() => Provider.DisposeAsync();
    }

    private static async Task<long> VacuumCountAsync(PostgresTables tables, string table)
    {
        await using var command = tables.DataSource.CreateCommand("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = $1");
        command.Parameters.AddWithValue(tables.Prefix + table);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> CountAsync(SqliteDatabase database)
    {
        await using var command = database.DataSource.CreateCommand("SELECT count(*) FROM leasing_idempotency");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Records log events and lets a test wait for the next one with a given id.</summary>
    private sealed class RecordingLoggerFactory : ILoggerFactory
    {
        private readonly ConcurrentDictionary<int, int> counts = new();
        private readonly ConcurrentDictionary<int, TaskCompletionSource<(int Id, Exception? Exception)>> waits = new();

        public int Count(int id) => counts.GetValueOrDefault(id);

        public Task<(int Id, Exception? Exception)> WaitFor(int id) =>
            waits.GetOrAdd(id, _ => new TaskCompletionSource<(int, Exception?)>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public ILogger CreateLogger(string categoryName) => new Recorder(this);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private void Record(EventId id, Exception? exception)
        {
            counts.AddOrUpdate(id.Id, 1, (_, n) => n + 1);
            if (waits.TryRemove(id.Id, out var wait))
            {
                wait.TrySetResult((id.Id, exception));
            }
        }

        private sealed class Recorder(RecordingLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Record(eventId, exception);
        }
    }
}
