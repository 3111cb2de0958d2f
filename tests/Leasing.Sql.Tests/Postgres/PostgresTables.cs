using Leasing.Testing.Servers;
using Npgsql;
using Xunit;

namespace Leasing.Sql.Tests.Postgres;

/// <summary>
/// One table prefix on the shared PostgreSQL server for one test class: schema ensured once, tables
/// dropped at the end. Tests in the class tell their data apart by unique keys and pool names.
/// </summary>
public class PostgresTables : IAsyncLifetime
{
    private readonly bool unlogged;
    private NpgsqlDataSource? dataSource;

    public PostgresTables()
        : this(unlogged: false)
    {
    }

    protected PostgresTables(bool unlogged) => this.unlogged = unlogged;

    public string Prefix { get; } = $"t{Guid.NewGuid():N}"[..13] + "_";

    public NpgsqlDataSource DataSource => dataSource ?? throw new InvalidOperationException("Not initialised.");

    public SqlLeasingOptions Options => new() { TablePrefix = Prefix, UnloggedLeaseTables = unlogged };

    public async Task InitializeAsync()
    {
        dataSource = NpgsqlDataSource.Create(await PostgresServer.GetConnectionStringAsync());
        await new SqlLeaseStore(DataSource, SqlDialect.PostgreSql, Options).EnsureSchemaAsync();
        await new SqlIdempotencyStore(DataSource, SqlDialect.PostgreSql, Options).EnsureSchemaAsync();
    }

    public async Task DisposeAsync()
    {
        if (dataSource is null)
        {
            return;
        }

        await DropAsync(dataSource, Prefix);
        await dataSource.DisposeAsync();
    }

    /// <summary>Drops every table and sequence whose name starts with <paramref name="prefix"/>.</summary>
    public static async Task DropAsync(NpgsqlDataSource dataSource, string prefix)
    {
        var drops = new List<string>();
        await using (var command = dataSource.CreateCommand(
            "SELECT format('DROP %s IF EXISTS %I CASCADE', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname) " +
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'S') AND starts_with(c.relname, $1)"))
        {
            command.Parameters.AddWithValue(prefix);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                drops.Add(reader.GetString(0));
            }
        }

        foreach (var drop in drops)
        {
            await using var dropCommand = dataSource.CreateCommand(drop);
            await dropCommand.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>As <see cref="PostgresTables"/>, with the lease tables UNLOGGED (<see cref="SqlLeasingOptions.UnloggedLeaseTables"/>).</summary>
public sealed class PostgresUnloggedTables() : PostgresTables(unlogged: true);
