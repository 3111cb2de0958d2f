using Leasing.Sql;
using Microsoft.Data.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SQL backend on a SQLite file.</summary>
public static class SqliteLeasingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the SQL stores (<see cref="SqlLeaseStore"/> as <see cref="Leasing.ILeaseStore"/>) on the SQLite
    /// file at <paramref name="path"/>, created if missing, in WAL mode; the schema is ensured when the host
    /// starts. Several processes on one host may share the file; do not put it on a network share.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="path">The database file.</param>
    /// <param name="configure">Adjusts the options (table prefix, timeout, clock).</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null, empty or whitespace.</exception>
    public static IServiceCollection AddSqliteLeasing(this IServiceCollection services, string path, Action<SqlLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        return services.AddSqlLeasing(_ => SqliteFactory.Instance.CreateDataSource(connectionString), SqlDialect.Sqlite, configure);
    }
}
