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

    private static async Task StartHostedServicesAsync(IServiceProvider provider)
    {
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }
    }
}
