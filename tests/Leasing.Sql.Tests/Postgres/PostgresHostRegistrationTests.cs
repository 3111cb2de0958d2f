using FluentAssertions;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>
/// <c>AddPostgresLeasing()</c> in a real host over the application's own <see cref="NpgsqlDataSource"/>
/// (<c>AddNpgsqlDataSource</c>): the pool works, LISTEN/NOTIFY wakes other processes, the data source stays the
/// application's, and a missing one fails the start.
/// </summary>
public sealed class PostgresHostRegistrationTests(PostgresTables tables) : IClassFixture<PostgresTables>
{
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AddPostgresLeasing_DataSourceFromAddNpgsqlDataSource_PoolAcquiresThroughTheHost_AndStoresUseThatDataSource()
    {
        var pool = Unique.Name("pool");
        var application = $"leasing-app-{Guid.NewGuid():N}"[..30];
        var connectionString = new NpgsqlConnectionStringBuilder(await PostgresServer.GetConnectionStringAsync()) { ApplicationName = application }.ConnectionString;
        using var host = Build(connectionString, services =>
        {
            services.AddPostgresLeasing(o => o.TablePrefix = tables.Prefix);
            services.AddChannelPool(pool, o => o.Channels = ["c1", "c2"]);
        });
        await host.StartAsync();

        var channelPool = host.Services.GetRequiredKeyedService<ChannelPool>(pool);
        await using (var first = await channelPool.AcquireAsync())
        await using (var second = await channelPool.AcquireAsync())
        {
            new[] { first.ChannelId, second.ChannelId }.Should().BeEquivalentTo(["c1", "c2"]);
        }

        (await CountConnections(application)).Should().BeGreaterThan(0, "the stores opened their connections from the application's data source");
        await host.StopAsync();
    }

    [Fact]
    public async Task AddPostgresLeasing_DataSourceFromDi_NotifiesAWaiterInAnotherProcess()
    {
        var connectionString = await PostgresServer.GetConnectionStringAsync();
        var pool = Unique.Name("pool");

        // Two "processes": two hosts, each with its own AddNpgsqlDataSource.
        using var waiting = Build(connectionString, services =>
        {
            services.AddPostgresLeasing(o => o.TablePrefix = tables.Prefix);
            services.AddChannelPool(pool, o =>
            {
                o.Channels = ["only"];
                o.AcquireTimeout = TimeSpan.FromSeconds(40);
                o.RetryMinDelay = TimeSpan.FromSeconds(30);
                o.RetryMaxDelay = TimeSpan.FromSeconds(30);
            });
        });
        using var acting = Build(connectionString, services => services.AddPostgresLeasing(o => o.TablePrefix = tables.Prefix));
        await waiting.StartAsync();
        await acting.StartAsync();
        var actingLeases = acting.Services.GetRequiredService<SqlLeaseStore>();
        await actingLeases.SetPoolMembersAsync(pool, ["only"]);
        var held = await actingLeases.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1));
        held.Should().NotBeNull();

        var acquiring = waiting.Services.GetRequiredKeyedService<ChannelPool>(pool).AcquireAsync().AsTask();
        var deadline = Environment.TickCount64 + (long)Fast.TotalMilliseconds;
        while (await CountWaiters(pool) == 0)
        {
            Environment.TickCount64.Should().BeLessThan(deadline, "the waiter listens and marks that it waits");
            await Task.Delay(10);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        (await actingLeases.ReleaseAsync(held!)).Should().BeTrue();
        await using var lease = await acquiring.WaitAsync(Fast);
        lease.ChannelId.Should().Be("only");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), "the waiter polls every 30 s; only the NOTIFY explains an earlier grant");
    }

    [Fact]
    public async Task AddPostgresLeasing_FactoryOverload_UsesTheReturnedDataSource_AndLeavesItOpenWhenTheContainerIsDisposed()
    {
        var application = $"leasing-lent-{Guid.NewGuid():N}"[..30];
        await using var source = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(await PostgresServer.GetConnectionStringAsync()) { ApplicationName = application }.ConnectionString);
        var calls = 0;
        var services = new ServiceCollection().AddPostgresLeasing(
            _ =>
            {
                Interlocked.Increment(ref calls);
                return source;
            },
            o => o.TablePrefix = tables.Prefix);
        await using (var provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            (await provider.GetRequiredService<ILeaseStore>().TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(30))).Should().NotBeNull();
            provider.GetRequiredService<IIdempotencyStore>().Should().NotBeNull();
            provider.GetRequiredService<ISqlNotificationChannel>().Should().BeOfType<NpgsqlNotificationChannel>();
        }

        calls.Should().Be(1, "the stores and the LISTEN connection share one data source");
        (await CountConnections(application)).Should().BeGreaterThan(0, "the store's pooled connection is still open: the data source was not disposed");
        await using var connection = await source.OpenConnectionAsync();
        connection.State.Should().Be(System.Data.ConnectionState.Open, "the container does not dispose a data source it was lent");
    }

    [Fact]
    public async Task AddPostgresLeasing_NoNpgsqlDataSourceRegistered_HostStartFailsNamingAddNpgsqlDataSource()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddPostgresLeasing();
        builder.Services.AddChannelPool(Unique.Name("pool"), o => o.Channels = ["c1"]);
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>())
            .Which.Message.Should().Contain("AddNpgsqlDataSource").And.Contain("NpgsqlDataSource");
    }

    [Fact]
    public async Task AddPostgresLeasing_OptionsBoundFromConfiguration_UsesTheBoundPrefix()
    {
        var prefix = $"cfg{Guid.NewGuid():N}"[..13] + "_";
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Leasing:Sql:TablePrefix"] = prefix,
            ["Leasing:Sql:CommandTimeout"] = "00:00:07",
        });
        builder.Services.AddNpgsqlDataSource(await PostgresServer.GetConnectionStringAsync());
        builder.Services.Configure<SqlLeasingOptions>(builder.Configuration.GetSection("Leasing:Sql"));
        builder.Services.AddPostgresLeasing();
        using var host = builder.Build();
        try
        {
            await host.StartAsync();

            (await CountTables(prefix)).Should().BeGreaterThan(0, "the schema was ensured under the bound prefix");
            host.Services.GetRequiredService<IOptions<SqlLeasingOptions>>().Value.CommandTimeout.Should().Be(TimeSpan.FromSeconds(7));
            await host.StopAsync();
        }
        finally
        {
            await DropTables(prefix);
        }
    }

    [Fact]
    public async Task AddPostgresLeasing_EnsureSchemaOff_OverTablesFromTheScript_StartsAndAcquiresWithoutDdl()
    {
        var prefix = $"dba{Guid.NewGuid():N}"[..13] + "_";
        try
        {
            await using (var apply = tables.DataSource.CreateCommand(SqlLeasingSchema.GetScript(SqlDialect.PostgreSql, prefix)))
            {
                await apply.ExecuteNonQueryAsync();
            }

            var applied = await CountTables(prefix);
            var pool = Unique.Name("pool");
            using var host = Build(await PostgresServer.GetConnectionStringAsync(), services =>
            {
                services.AddPostgresLeasing(o =>
                {
                    o.TablePrefix = prefix;
                    o.EnsureSchema = false;
                });
                services.AddChannelPool(pool, o => o.Channels = ["c1"]);
            });
            await host.StartAsync();

            await using (var lease = await host.Services.GetRequiredKeyedService<ChannelPool>(pool).AcquireAsync())
            {
                lease.ChannelId.Should().Be("c1");
            }

            (await CountTables(prefix)).Should().Be(applied, "the script made every table and index the stores use");
            await host.StopAsync();
        }
        finally
        {
            await DropTables(prefix);
        }
    }

    [Fact]
    public async Task EnsureSchemaAsync_EnsureSchemaOff_NoTables_ThrowsPointingAtTheSchemaCommand_AndCreatesNothing()
    {
        var prefix = $"none{Guid.NewGuid():N}"[..13] + "_";
        var store = new SqlLeaseStore(tables.DataSource, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = prefix, EnsureSchema = false });

        var ensure = async () => await store.EnsureSchemaAsync();

        (await ensure.Should().ThrowAsync<InvalidOperationException>())
            .Which.Message.Should().Contain($"leasing schema --postgres --prefix {prefix}");
        (await CountTables(prefix)).Should().Be(0);
    }

    private static IHost Build(string connectionString, Action<IServiceCollection> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddNpgsqlDataSource(connectionString);
        configure(builder.Services);
        return builder.Build();
    }

    private async Task<long> CountWaiters(string name)
    {
        await using var command = tables.DataSource.CreateCommand($"SELECT count(*) FROM {tables.Prefix}waiters WHERE name = $1");
        command.Parameters.AddWithValue(name);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> CountConnections(string application)
    {
        await using var command = tables.DataSource.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1");
        command.Parameters.AddWithValue(application);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> CountTables(string prefix)
    {
        await using var command = tables.DataSource.CreateCommand(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND starts_with(c.relname, $1)");
        command.Parameters.AddWithValue(prefix);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task DropTables(string prefix)
    {
        await using var command = tables.DataSource.CreateCommand(
            $"DROP TABLE IF EXISTS {prefix}leases, {prefix}pools, {prefix}pool_members, {prefix}lease_state, {prefix}idempotency, {prefix}waiters, {prefix}schema; DROP SEQUENCE IF EXISTS {prefix}lru");
        await command.ExecuteNonQueryAsync();
    }
}
