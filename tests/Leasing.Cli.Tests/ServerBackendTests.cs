using System.Text.Json;
using FluentAssertions;
using Leasing.Redis;
using Leasing.Sql;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Npgsql;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Cli.Tests;

/// <summary>The operator commands against real Redis and PostgreSQL servers (LEASING_REDIS / LEASING_POSTGRES), with the application's prefix.</summary>
public sealed class ServerBackendTests
{
    private readonly string _pool = Unique.Name("pool-");

    [Fact]
    public async Task PoolStatusAndRelease_Postgres_SeeAndFreeTheHeldChannel()
    {
        var connection = await PostgresServer.GetConnectionStringAsync();
        var prefix = $"cli_{Guid.NewGuid():N}"[..20] + "_";
        await using var dataSource = NpgsqlDataSource.Create(connection);
        var store = new SqlLeaseStore(dataSource, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = prefix });
        try
        {
            await store.EnsureSchemaAsync();
            await RunStatusAndReleaseAsync(store, "--postgres", connection, prefix);
        }
        finally
        {
            await using var command = dataSource.CreateCommand(
                "SELECT string_agg(quote_ident(table_name), ', ') FROM information_schema.tables WHERE table_name LIKE $1");
            command.Parameters.AddWithValue(prefix + "%");
            if (await command.ExecuteScalarAsync() is string tables)
            {
                await using var drop = dataSource.CreateCommand($"DROP TABLE IF EXISTS {tables} CASCADE");
                await drop.ExecuteNonQueryAsync();
            }
        }
    }

    [Fact]
    public async Task PoolStatusAndRelease_Redis_SeeAndFreeTheHeldChannel()
    {
        var connection = await RedisTestServer.GetConnectionStringAsync();
        var prefix = $"cli-test-{Guid.NewGuid():N}";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connection);
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { KeyPrefix = prefix });
        try
        {
            await RunStatusAndReleaseAsync(store, "--redis", connection, prefix);
        }
        finally
        {
            var server = redis.GetServers()[0];
            await foreach (var key in server.KeysAsync(pattern: $"*{prefix}*"))
            {
                await redis.GetDatabase().KeyDeleteAsync(key);
            }
        }
    }

    private async Task RunStatusAndReleaseAsync(ILeaseStore store, string option, string connection, string prefix)
    {
        await store.SetPoolMembersAsync(_pool, ["a", "b"]);
        var held = (await store.TryAcquirePoolMemberAsync(_pool, "b", TimeSpan.FromMinutes(5)))!;

        var status = await Cli.RunAsync("pool", "status", _pool, option, connection, "--prefix", prefix, "--json");
        status.ExitCode.Should().Be(0, status.ToString());
        using (var json = JsonDocument.Parse(status.Out))
        {
            json.RootElement.GetProperty("held").GetInt32().Should().Be(1);
            json.RootElement.GetProperty("members").EnumerateArray()
                .Single(m => m.GetProperty("channel").GetString() == "b").GetProperty("fencingToken").GetInt64().Should().Be(held.FencingToken);
        }

        var release = await Cli.RunAsync("pool", "release", _pool, "b", option, connection, "--prefix", prefix, "--yes");
        release.ExitCode.Should().Be(0, release.ToString());
        release.Out.Should().Contain("released channel 'b'");
        (await store.RenewAsync(held, TimeSpan.FromMinutes(1))).Should().BeNull("the holder lost the lease to the operator");
    }
}
