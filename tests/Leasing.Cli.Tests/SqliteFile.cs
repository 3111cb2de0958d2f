using Leasing.Sql;
using Microsoft.Data.Sqlite;

namespace Leasing.Cli.Tests;

/// <summary>A SQLite database file in a temp folder with the lease and idempotency schemas, as a deployment would have it; deleted on dispose.</summary>
internal sealed class SqliteFile : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("leasing-cli-test-").FullName;
    private readonly System.Data.Common.DbDataSource _dataSource;

    private SqliteFile()
    {
        Path = System.IO.Path.Combine(_folder, "leasing.db");
        _dataSource = SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = true }.ToString());
        Leases = new SqlLeaseStore(_dataSource, SqlDialect.Sqlite);
        Idempotency = new SqlIdempotencyStore(_dataSource, SqlDialect.Sqlite);
    }

    public string Path { get; }

    public SqlLeaseStore Leases { get; }

    public SqlIdempotencyStore Idempotency { get; }

    public static async Task<SqliteFile> CreateAsync()
    {
        var file = new SqliteFile();
        await file.Leases.EnsureSchemaAsync();
        await file.Idempotency.EnsureSchemaAsync();
        return file;
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Still open somewhere; the temp folder is cleaned eventually.
        }
    }
}
