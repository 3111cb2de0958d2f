using Leasing.Sql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SQL backend on PostgreSQL.</summary>
public static class PostgresLeasingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the SQL stores (<see cref="SqlLeaseStore"/> as <see cref="Leasing.ILeaseStore"/>) on the
    /// PostgreSQL database of <paramref name="connectionString"/> (one Npgsql data source, disposed with the
    /// container); the schema is ensured when the host starts. Releases and completions are announced to
    /// waiters in other processes through LISTEN/NOTIFY (<see cref="NpgsqlNotificationChannel"/>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="configure">Adjusts the options (table prefix, timeout).</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is null, empty or whitespace.</exception>
    public static IServiceCollection AddPostgresLeasing(this IServiceCollection services, string connectionString, Action<SqlLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _ = new NpgsqlConnectionStringBuilder(connectionString); // a malformed string fails here, at registration
        var dataSource = new Lazy<NpgsqlDataSource>(() => NpgsqlDataSource.Create(connectionString));
        services.TryAddSingleton<ISqlNotificationChannel>(_ => new NpgsqlNotificationChannel(dataSource.Value));
        return services.AddSqlLeasing(_ => dataSource.Value, SqlDialect.PostgreSql, configure);
    }
}
