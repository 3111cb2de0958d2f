using FluentAssertions;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Leasing.Sql.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public async Task AddSqliteLeasing_EnsuresSchemaAtStartAndRegistersTheStore()
    {
        var path = Path.Combine(Path.GetTempPath(), $"leasing-di-{Guid.NewGuid():N}.db");
        var services = new ServiceCollection().AddSqliteLeasing(path, o => o.TablePrefix = "app_");
        await using (var provider = services.BuildServiceProvider())
        {
            await StartHostedServicesAsync(provider);

            var store = provider.GetRequiredService<ILeaseStore>();
            store.Should().BeOfType<SqlLeaseStore>().Which.Dialect.Should().Be(SqlDialect.Sqlite);
            (await store.TryAcquireAsync("k", TimeSpan.FromSeconds(30))).Should().NotBeNull();
            var idempotency = provider.GetRequiredService<IIdempotencyStore>();
            idempotency.Should().BeOfType<SqlIdempotencyStore>();
            (await idempotency.TryClaimAsync("k", "fp", TimeSpan.FromSeconds(30))).Outcome.Should().Be(ClaimOutcome.Claimed);
        }

        File.Exists(path).Should().BeTrue();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(path);
    }

    [Fact]
    public async Task AddPostgresLeasing_EnsuresSchemaAtStartAndRegistersTheStore()
    {
        var prefix = $"di{Guid.NewGuid():N}"[..12] + "_";
        var services = new ServiceCollection().AddPostgresLeasing(await PostgresServer.GetConnectionStringAsync(), o => o.TablePrefix = prefix);
        await using var provider = services.BuildServiceProvider();
        await StartHostedServicesAsync(provider);

        var store = provider.GetRequiredService<ILeaseStore>();
        store.Should().BeOfType<SqlLeaseStore>().Which.Dialect.Should().Be(SqlDialect.PostgreSql);
        (await store.TryAcquireAsync(Unique.Name(), TimeSpan.FromSeconds(30))).Should().NotBeNull();
        (await provider.GetRequiredService<IIdempotencyStore>().TryClaimAsync(Unique.Name(), "fp", TimeSpan.FromSeconds(30))).Outcome.Should().Be(ClaimOutcome.Claimed);
        await using var drop = Npgsql.NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync())
            .CreateCommand($"DROP TABLE {prefix}leases, {prefix}pools, {prefix}pool_members, {prefix}idempotency, {prefix}waiters, {prefix}schema; DROP SEQUENCE {prefix}lru");
        await drop.ExecuteNonQueryAsync();
    }

    [Fact]
    public void AddSqliteLeasingAndAddPostgresLeasing_BadArguments_Throw()
    {
        FluentActions.Invoking(() => new ServiceCollection().AddSqliteLeasing(" ")).Should().Throw<ArgumentException>().WithParameterName("path");
        FluentActions.Invoking(() => new ServiceCollection().AddPostgresLeasing("")).Should().Throw<ArgumentException>().WithParameterName("connectionString");
        FluentActions.Invoking(() => new ServiceCollection().AddPostgresLeasing("Nonsense Key=1")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task AddSqliteLeasing_InvalidOptions_HostStartFailsNamingEachOption()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSqliteLeasing(Path.Combine(Path.GetTempPath(), $"leasing-di-{Guid.NewGuid():N}.db"));
        builder.Services.Configure<SqlLeasingOptions>(o =>
        {
            o.TablePrefix = "1bad";
            o.CommandTimeout = TimeSpan.Zero;
            o.PurgeInterval = TimeSpan.FromDays(2);
        });
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>()).Which.Failures.Should().HaveCount(3)
            .And.Contain(f => f.StartsWith("SqlLeasingOptions.TablePrefix must be an identifier", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("SqlLeasingOptions.CommandTimeout must be between", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("SqlLeasingOptions.PurgeInterval must be positive", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddSqliteLeasing_EnsureSchemaOff_RunsNoDdl_HostStartFailsPointingAtTheSchemaCommand_ThenStartsOnceTheScriptIsApplied()
    {
        var path = Path.Combine(Path.GetTempPath(), $"leasing-di-{Guid.NewGuid():N}.db");
        try
        {
            using (var host = SqliteHost(path))
            {
                var start = () => host.StartAsync();

                (await start.Should().ThrowAsync<InvalidOperationException>())
                    .Which.Message.Should().Contain("EnsureSchema is off").And.Contain("leasing schema --sqlite --prefix app_");
            }

            (await CountTablesAsync(path)).Should().Be(0, "with EnsureSchema off the stores ran no DDL");

            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
            {
                await connection.OpenAsync();
                await using var apply = connection.CreateCommand();
                apply.CommandText = SqlLeasingSchema.GetScript(SqlDialect.Sqlite, "app_");
                await apply.ExecuteNonQueryAsync();
            }

            var applied = await CountTablesAsync(path);
            using (var host = SqliteHost(path))
            {
                await host.StartAsync();
                (await host.Services.GetRequiredService<ILeaseStore>().TryAcquireAsync("k", TimeSpan.FromSeconds(30))).Should().NotBeNull();
                await host.StopAsync();
            }

            (await CountTablesAsync(path)).Should().Be(applied);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(path);
        }

        static IHost SqliteHost(string path)
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Services.AddSqliteLeasing(path, o =>
            {
                o.TablePrefix = "app_";
                o.EnsureSchema = false;
            });
            return builder.Build();
        }
    }

    [Fact]
    public void GetScript_EachDialect_HoldsBothComponentsAndTheirVersionRows_AndChecksThePrefix()
    {
        foreach (var dialect in new[] { SqlDialect.Sqlite, SqlDialect.PostgreSql })
        {
            var script = SqlLeasingSchema.GetScript(dialect, "Ops_");
            script.Should().Contain("ops_leases").And.Contain("ops_pool_members").And.Contain("ops_lease_state").And.Contain("ops_idempotency")
                .And.Contain("ops_schema").And.Contain("('leases', 1)").And.Contain("('idempotency', 1)");
        }

        var postgres = SqlLeasingSchema.GetScript(SqlDialect.PostgreSql, "ops_");
        postgres.Split("CREATE TABLE IF NOT EXISTS ops_waiters").Should().HaveCount(2, "the waiters table both components need is created once");

        FluentActions.Invoking(() => SqlLeasingSchema.GetScript(SqlDialect.PostgreSql, "1x")).Should().Throw<ArgumentException>().WithParameterName("tablePrefix");
        FluentActions.Invoking(() => SqlLeasingSchema.GetScript((SqlDialect)7)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("dialect");
    }

    private static async Task<long> CountTablesAsync(string path)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM sqlite_master";
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task StartHostedServicesAsync(IServiceProvider provider)
    {
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }
    }
}
