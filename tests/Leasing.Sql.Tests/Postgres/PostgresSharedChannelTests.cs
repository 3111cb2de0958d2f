using FluentAssertions;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>
/// Issue 10, defect 5 and the leaks on partial failures: one <see cref="NpgsqlNotificationChannel"/> listens for
/// both kinds, a failed LISTEN leaves nothing behind and is retried, a dropped connection listens again.
/// </summary>
public sealed class PostgresSharedChannelTests(PostgresTables tables) : IClassFixture<PostgresTables>
{
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AddPostgresLeasing_OneSharedChannel_WakesPoolAndIdempotencyWaitersOfAnotherProcess()
    {
        var connectionString = await PostgresServer.GetConnectionStringAsync();

        // Two "processes": two containers, so two data sources, two in-process signal hubs and two channels.
        await using var waiting = await StartAsync(connectionString);
        await using var acting = await StartAsync(connectionString);
        var pool = Unique.Name("pool");
        var key = Unique.Name("key");
        var actingLeases = acting.GetRequiredService<SqlLeaseStore>();
        var actingIdempotency = acting.GetRequiredService<SqlIdempotencyStore>();
        await actingLeases.SetPoolMembersAsync(pool, ["only"]);
        var held = await actingLeases.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1));
        var claim = await actingIdempotency.TryClaimAsync(key, "fp", TimeSpan.FromMinutes(1));

        // A pool waiter that polls only every 15 to 30 s: a grant within 10 s is the notification's doing.
        await using var channelPool = new ChannelPool(waiting.GetRequiredService<ILeaseStore>(), new ChannelPoolOptions
        {
            Name = pool,
            Channels = ["only"],
            AcquireTimeout = TimeSpan.FromSeconds(40),
            RetryMinDelay = TimeSpan.FromSeconds(30),
            RetryMaxDelay = TimeSpan.FromSeconds(30),
        });
        var acquiring = channelPool.AcquireAsync().AsTask();

        // The idempotency waiter: the store's completion subscription fires only on a signal, never on a poll;
        // across data sources only a NOTIFY can carry it.
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await waiting.GetRequiredService<SqlIdempotencyStore>().SubscribeToCompletionAsync(key, () => completed.TrySetResult());

        // Let the pool waiter's own subscription settle: its marker row says it waits.
        var deadline = Environment.TickCount64 + (long)Fast.TotalMilliseconds;
        while (await CountWaiters(pool) == 0)
        {
            Environment.TickCount64.Should().BeLessThan(deadline, "the pool waiter listens and marks that it waits");
            await Task.Delay(10);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        (await actingLeases.ReleaseAsync(held!)).Should().BeTrue();
        (await actingIdempotency.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), TimeSpan.FromMinutes(1))).Should().BeTrue();

        await completed.Task.WaitAsync(Fast);
        await using var lease = await acquiring.WaitAsync(Fast);
        lease.ChannelId.Should().Be("only");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), "the first poll comes 15 s or more after the wait began; only the NOTIFY explains an earlier grant");
    }

    [Fact]
    public async Task ListenAsync_WhileTheDatabaseCannotBeReached_FailsLeavingNoHandler_AndListensForRealOnTheNextCall()
    {
        var database = $"leasing_missing_{Guid.NewGuid():N}"[..30];
        var builder = new NpgsqlConnectionStringBuilder(await PostgresServer.GetConnectionStringAsync()) { Database = database };
        await using var source = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var channel = new NpgsqlNotificationChannel(source);
        var failedCalls = 0;
        var calls = 0;

        var first = async () => await channel.ListenAsync("leasing_probe", _ => Interlocked.Increment(ref failedCalls));
        (await first.Should().ThrowAsync<LeaseStoreUnavailableException>()).Which.InnerException.Should().BeAssignableTo<NpgsqlException>();

        await ExecuteAsync(tables.DataSource, $"CREATE DATABASE {database}");
        try
        {
            await using (await channel.ListenAsync("leasing_probe", _ => Interlocked.Increment(ref calls)))
            {
                await using var notifier = NpgsqlDataSource.Create(builder.ConnectionString);
                await ExecuteAsync(notifier, "NOTIFY leasing_probe, 'x'");
                await Eventually.TrueAsync(() => Volatile.Read(ref calls) == 1, "the retried LISTEN really listens", Fast);
            }

            failedCalls.Should().Be(0, "the handler of the failed call was removed");
        }
        finally
        {
            await channel.DisposeAsync();
            await source.DisposeAsync();
            await ExecuteAsync(tables.DataSource, $"DROP DATABASE {database} WITH (FORCE)");
        }
    }

    [Fact]
    public async Task Listening_AfterTheConnectionIsKilled_ReconnectsListensOnEveryChannelAgain_AndLeavesOneConnection()
    {
        var application = $"leasing-listen-{Guid.NewGuid():N}"[..30];
        var builder = new NpgsqlConnectionStringBuilder(await PostgresServer.GetConnectionStringAsync()) { ApplicationName = application };
        await using var source = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var channel = new NpgsqlNotificationChannel(source);
        var release = 0;
        var complete = 0;
        await using var first = await channel.ListenAsync("leasing_kill_release", _ => Interlocked.Increment(ref release));
        await using var second = await channel.ListenAsync("leasing_kill_complete", _ => Interlocked.Increment(ref complete));

        (await ExecuteScalarAsync($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{application}'")).Should().Be(1);

        // Notifications sent while it reconnects are lost (waiters poll): send until both kinds arrive.
        var deadline = Environment.TickCount64 + (long)Fast.TotalMilliseconds;
        while (Volatile.Read(ref release) == 0 || Volatile.Read(ref complete) == 0)
        {
            Environment.TickCount64.Should().BeLessThan(deadline, "the channel reconnects and LISTENs on both channels again");
            await ExecuteAsync(tables.DataSource, "NOTIFY leasing_kill_release, 'x'; NOTIFY leasing_kill_complete, 'y'");
            await Task.Delay(50);
        }

        (await ExecuteScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application}'")).Should().Be(1, "the broken connection was closed, not leaked");
    }

    [Fact]
    public async Task ListenAsync_CancelledWhileWaitingForTheLoop_RemovesItsHandler()
    {
        await using var source = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        await using var channel = new NpgsqlNotificationChannel(source);
        var cancelledCalls = 0;
        var calls = 0;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var first = async () => await channel.ListenAsync("leasing_cancelled", _ => Interlocked.Increment(ref cancelledCalls), cancelled.Token);
        await first.Should().ThrowAsync<OperationCanceledException>();
        await using (await channel.ListenAsync("leasing_cancelled", _ => Interlocked.Increment(ref calls)))
        {
            await ExecuteAsync(tables.DataSource, "NOTIFY leasing_cancelled, 'x'");
            await Eventually.TrueAsync(() => Volatile.Read(ref calls) == 1, "the second call listens", Fast);
        }

        cancelledCalls.Should().Be(0, "the cancelled call left no handler");
    }

    [Fact]
    public async Task Subscribe_WhenTheSharedListenFails_FailsAndTheNextSubscribeListensAgain()
    {
        await using var source = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        var channel = new ScriptedChannel { FailNext = true };
        var store = new SqlLeaseStore(source, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = tables.Prefix, Notifications = channel });

        var first = async () => await store.SubscribeToReleasesAsync(Unique.Name("pool"), () => { });
        await first.Should().ThrowAsync<LeaseStoreUnavailableException>();
        await using var subscribed = await store.SubscribeToReleasesAsync(Unique.Name("pool"), () => { });
        await using var again = await store.SubscribeToReleasesAsync(Unique.Name("pool"), () => { });

        channel.Calls.Should().Be(2, "the failed LISTEN was tried again once, then shared");
        channel.Active.Should().Be(1, "one handler per kind");
    }

    [Fact]
    public async Task Subscribe_CancelledWhileTheSharedListenIsUnderWay_LeavesExactlyOneHandler()
    {
        await using var source = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        var channel = new ScriptedChannel { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var store = new SqlIdempotencyStore(source, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = tables.Prefix, Notifications = channel });
        using var leaving = new CancellationTokenSource();

        var first = store.SubscribeToCompletionAsync(Unique.Name("key"), () => { }, leaving.Token).AsTask();
        await leaving.CancelAsync();
        await FluentActions.Awaiting(() => first).Should().ThrowAsync<OperationCanceledException>();
        channel.Gate.SetResult();
        await using var subscribed = await store.SubscribeToCompletionAsync(Unique.Name("key"), () => { });

        channel.Calls.Should().Be(1, "the LISTEN under way was shared with the next subscriber, not sent again");
        channel.Active.Should().Be(1);
    }

    private async Task<ServiceProvider> StartAsync(string connectionString)
    {
        var prefix = tables.Prefix;
        var provider = new ServiceCollection().AddPostgresLeasing(connectionString, o => o.TablePrefix = prefix).BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        return provider;
    }

    private async Task<long> CountWaiters(string name)
    {
        await using var command = tables.DataSource.CreateCommand($"SELECT count(*) FROM {tables.Prefix}waiters WHERE name = $1");
        command.Parameters.AddWithValue(name);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> ExecuteScalarAsync(string sql)
    {
        await using var command = tables.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource source, string sql)
    {
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A notification channel whose LISTEN fails or waits on command, counting calls and live handlers.</summary>
    private sealed class ScriptedChannel : ISqlNotificationChannel
    {
        private int calls;
        private int active;

        public bool FailNext { get; set; }

        public TaskCompletionSource? Gate { get; init; }

        public int Calls => Volatile.Read(ref calls);

        public int Active => Volatile.Read(ref active);

        public async ValueTask<IAsyncDisposable> ListenAsync(string channel, Action<string> onNotification, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref calls);
            if (Gate is not null)
            {
                await Gate.Task;
            }

            if (FailNext)
            {
                FailNext = false;
                throw new LeaseStoreUnavailableException("scripted LISTEN failure");
            }

            Interlocked.Increment(ref active);
            return new Handle(this);
        }

        private sealed class Handle(ScriptedChannel owner) : IAsyncDisposable
        {
            public ValueTask DisposeAsync()
            {
                Interlocked.Decrement(ref owner.active);
                return ValueTask.CompletedTask;
            }
        }
    }
}
