using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Leasing.Sql.Tests.Sqlite;

/// <summary>A SQLite file in the temp folder, deleted (with its WAL files) on dispose.</summary>
public sealed class SqliteDatabase : IAsyncDisposable
{
    public SqliteDatabase()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"leasing-test-{Guid.NewGuid():N}.db");
        DataSource = SqliteFactory.Instance.CreateDataSource(ConnectionString(Path));
    }

    public string Path { get; }

    public DbDataSource DataSource { get; }

    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            try
            {
                File.Delete(Path + suffix);
            }
            catch (IOException)
            {
                // Another pooled connection still has it open; the temp folder is cleaned eventually.
            }
        }
    }
}
