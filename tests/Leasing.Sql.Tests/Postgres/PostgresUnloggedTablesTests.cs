using FluentAssertions;
using Leasing.Testing;
using Leasing.Testing.Servers;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>
/// <see cref="SqlLeasingOptions.UnloggedLeaseTables"/>: which tables it creates UNLOGGED, that EnsureSchemaAsync never
/// rewrites existing tables, that the printed DDL does the same, and what a crash (the tables emptied) leaves.
/// </summary>
public sealed class PostgresUnloggedTablesTests
{
    private static readonly string[] LeaseTables = ["leases", "pools", "pool_members", "lease_state"];
    private static readonly string[] LoggedTables = ["idempotency", "waiters", "schema"];

    [Fact]
    public async Task EnsureSchemaAsync_UnloggedLeaseTables_CreatesThemUnlogged_AndNeverAltersExistingTables()
    {
        var prefix = $"u{Guid.NewGuid():N}"[..13] + "_";
        var loggedPrefix = $"l{Guid.NewGuid():N}"[..13] + "_";
        await using var source = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        try
        {
            var unlogged = new SqlLeasingOptions { TablePrefix = prefix, UnloggedLeaseTables = true };
            await new SqlLeaseStore(source, SqlDialect.PostgreSql, unlogged).EnsureSchemaAsync();
            await new SqlIdempotencyStore(source, SqlDialect.PostgreSql, unlogged).EnsureSchemaAsync();
            foreach (var table in LeaseTables)
            {
                (await PersistenceAsync(source, prefix + table)).Should().Be('u', $"{table} is a lease table");
            }

            foreach (var table in LoggedTables)
            {
                (await PersistenceAsync(source, prefix + table)).Should().Be('p', $"{table} is not a lease table and stays logged");
            }

            var store = new SqlLeaseStore(source, SqlDialect.PostgreSql, unlogged);
            var pool = Unique.Name("pool");
            await store.SetPoolMembersAsync(pool, ["m1", "m2"]);
            var held = await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(5));
            held.Should().NotBeNull();

            // A host with default options over the same tables (a second service, an operator's CLI) rewrites nothing.
            await new SqlLeaseStore(source, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = prefix }).EnsureSchemaAsync();
            foreach (var table in LeaseTables)
            {
                (await PersistenceAsync(source, prefix + table)).Should().Be('u', $"{table} is left as it is");
            }

            (await store.ReleaseAsync(held!)).Should().BeTrue("the lease row was not touched");

            // Nor does the option turn existing logged tables unlogged.
            await new SqlLeaseStore(source, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = loggedPrefix }).EnsureSchemaAsync();
            await new SqlLeaseStore(source, SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = loggedPrefix, UnloggedLeaseTables = true }).EnsureSchemaAsync();
            foreach (var table in LeaseTables)
            {
                (await PersistenceAsync(source, loggedPrefix + table)).Should().Be('p', $"{table} existed, logged, and is left as it is");
            }
        }
        finally
        {
            await PostgresTables.DropAsync(source, prefix);
            await PostgresTables.DropAsync(source, loggedPrefix);
        }
    }

    [Fact]
    public async Task GetScript_UnloggedLeaseTables_AppliedAhead_LetsStoresWithEnsureSchemaOffWork()
    {
        var prefix = $"u{Guid.NewGuid():N}"[..13] + "_";
        await using var source = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        try
        {
            var script = SqlLeasingSchema.GetScript(SqlDialect.PostgreSql, new SqlLeasingOptions { TablePrefix = prefix, UnloggedLeaseTables = true });
            script.Should().Contain($"CREATE UNLOGGED TABLE IF NOT EXISTS {prefix}pool_members (")
                .And.Contain($"CREATE TABLE IF NOT EXISTS {prefix}idempotency (");
            await using (var apply = source.CreateCommand(script))
            {
                await apply.ExecuteNonQueryAsync();
            }

            (await PersistenceAsync(source, prefix + "pool_members")).Should().Be('u');
            var options = new SqlLeasingOptions { TablePrefix = prefix, EnsureSchema = false, UnloggedLeaseTables = true };
            var store = new SqlLeaseStore(source, SqlDialect.PostgreSql, options);
            await store.EnsureSchemaAsync();
            await store.SetPoolMembersAsync("relayers", ["r1"]);
            (await store.TryAcquireLeastRecentlyUsedAsync("relayers", TimeSpan.FromSeconds(30)))!.Key.Should().Be("r1");
        }
        finally
        {
            await PostgresTables.DropAsync(source, prefix);
        }
    }

    [Fact]
    public async Task AfterACrashEmptiedTheUnloggedTables_PoolWritesItsMembersAgain_AndFencingTokensKeepGrowing()
    {
        var prefix = $"u{Guid.NewGuid():N}"[..13] + "_";
        await using var source = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        try
        {
            var options = new SqlLeasingOptions { TablePrefix = prefix, UnloggedLeaseTables = true };
            var store = new SqlLeaseStore(source, SqlDialect.PostgreSql, options);
            await store.EnsureSchemaAsync();
            await using var pool = new ChannelPool(store, new ChannelPoolOptions { Name = Unique.Name("pool"), Channels = ["a", "b"] });
            long before;
            await using (var lease = await pool.AcquireAsync())
            {
                before = lease.FencingToken;
            }

            var key = Unique.Name("lock");
            var single = await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1));
            await store.ReleaseAsync(single!);

            // What crash recovery does to UNLOGGED tables: it resets them to empty.
            await using (var crash = source.CreateCommand($"TRUNCATE {prefix}leases, {prefix}pools, {prefix}pool_members, {prefix}lease_state"))
            {
                await crash.ExecuteNonQueryAsync();
            }

            await using (var lease = await pool.AcquireAsync())
            {
                lease.FencingToken.Should().BeGreaterThan(before, "the clock term carries the token past every earlier one");
            }

            (await store.GetPoolMembersAsync(pool.Name)).Should().BeEquivalentTo(["a", "b"], "the pool wrote its member list again");
            (await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1)))!.FencingToken.Should().BeGreaterThan(single!.FencingToken);
        }
        finally
        {
            await PostgresTables.DropAsync(source, prefix);
        }
    }

    [Fact]
    public void GetScript_Sqlite_IgnoresUnloggedLeaseTables()
    {
        var options = new SqlLeasingOptions { UnloggedLeaseTables = true };

        SqlLeasingSchema.GetScript(SqlDialect.Sqlite, options).Should().Be(SqlLeasingSchema.GetScript(SqlDialect.Sqlite, "leasing_"))
            .And.NotContain("UNLOGGED");
    }

    private static async Task<char> PersistenceAsync(NpgsqlDataSource source, string table)
    {
        await using var command = source.CreateCommand("SELECT relpersistence FROM pg_class WHERE oid = to_regclass($1)");
        command.Parameters.AddWithValue(table);
        return (char)(await command.ExecuteScalarAsync())!;
    }
}
