using FluentAssertions;
using Leasing.Sql;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Leasing.Cli.Tests;

/// <summary><c>leasing schema</c>: the DDL the stores run, for a DBA to apply ahead of an application with EnsureSchema off.</summary>
public sealed class SchemaCommandTests
{
    [Fact]
    public async Task Schema_Postgres_PrintsTheStoresDdlForThePrefix()
    {
        var result = await Cli.RunAsync("schema", "--postgres", "--prefix", "app_");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Out.Should().Be(SqlLeasingSchema.GetScript(SqlDialect.PostgreSql, "app_"));
        result.Out.Should().Contain("CREATE TABLE IF NOT EXISTS app_leases (")
            .And.Contain("CREATE TABLE IF NOT EXISTS app_idempotency (")
            .And.Contain("CREATE SEQUENCE IF NOT EXISTS app_lru;")
            .And.Contain("INSERT INTO app_schema (component, version) VALUES ('leases', 1)")
            .And.Contain("INSERT INTO app_schema (component, version) VALUES ('idempotency', 1)")
            .And.NotContain("leasing_").And.NotContain("@");
        result.Error.Should().BeEmpty();
    }

    [Fact]
    public async Task Schema_SqliteDefaultPrefix_AppliedToAnEmptyFile_LetsStoresWithEnsureSchemaOffWork()
    {
        var result = await Cli.RunAsync("schema", "--sqlite");
        result.ExitCode.Should().Be(0, result.ToString());
        result.Out.Should().Contain("CREATE TABLE IF NOT EXISTS leasing_leases (").And.Contain("STRICT");

        var folder = Directory.CreateTempSubdirectory("leasing-schema-test-").FullName;
        try
        {
            var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "app.db"), Pooling = false }.ToString();
            await using (var connection = new SqliteConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var apply = connection.CreateCommand();
                apply.CommandText = result.Out;
                await apply.ExecuteNonQueryAsync();
            }

            await using var source = SqliteFactory.Instance.CreateDataSource(connectionString);
            var options = new SqlLeasingOptions { EnsureSchema = false };
            var leases = new SqlLeaseStore(source, SqlDialect.Sqlite, options);
            var idempotency = new SqlIdempotencyStore(source, SqlDialect.Sqlite, options);
            await leases.EnsureSchemaAsync();
            await idempotency.EnsureSchemaAsync();
            await leases.SetPoolMembersAsync("relayers", ["r1"]);
            (await leases.TryAcquireLeastRecentlyUsedAsync("relayers", TimeSpan.FromSeconds(30)))!.Key.Should().Be("r1");
            (await idempotency.TryClaimAsync("k", "fp", TimeSpan.FromSeconds(30))).Outcome.Should().Be(ClaimOutcome.Claimed);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("schema")]
    [InlineData("schema", "--postgres", "--sqlite")]
    public async Task Schema_NoneOrBothDatabases_ExitsTwoNamingTheOptions(params string[] args)
    {
        var result = await Cli.RunAsync(args);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--postgres").And.Contain("--sqlite");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task Schema_PostgresUnlogged_PrintsTheLeaseTablesUnlogged_IdempotencyLogged()
    {
        var result = await Cli.RunAsync("schema", "--postgres", "--prefix", "app_", "--unlogged");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Out.Should().Be(SqlLeasingSchema.GetScript(SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = "app_", UnloggedLeaseTables = true }));
        result.Out.Should().Contain("CREATE UNLOGGED TABLE IF NOT EXISTS app_leases (")
            .And.Contain("CREATE UNLOGGED TABLE IF NOT EXISTS app_pool_members (")
            .And.Contain("CREATE UNLOGGED TABLE IF NOT EXISTS app_lease_state (")
            .And.Contain("CREATE TABLE IF NOT EXISTS app_idempotency (")
            .And.NotContain("SET UNLOGGED", "existing tables are never rewritten by the script").And.NotContain("SET LOGGED");
    }

    [Fact]
    public async Task Schema_SqliteUnlogged_ExitsTwoNamingTheOption()
    {
        var result = await Cli.RunAsync("schema", "--sqlite", "--unlogged");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--unlogged");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task Schema_BadPrefix_ExitsTwoNamingTheRule()
    {
        var result = await Cli.RunAsync("schema", "--postgres", "--prefix", "x;DROP TABLE y");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("TablePrefix must be an identifier");
        result.Out.Should().BeEmpty();
    }
}
