using Leasing.Sql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
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
    /// <param name="configure">Adjusts the options (table prefix, timeout); validated when the host starts.</param>
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

    /// <summary>
    /// Registers the SQL stores (<see cref="SqlLeaseStore"/> as <see cref="Leasing.ILeaseStore"/>) on the
    /// <see cref="NpgsqlDataSource"/> registered in the container, such as the one <c>services.AddNpgsqlDataSource(connectionString)</c>
    /// (Npgsql.DependencyInjection) adds: the application keeps one connection pool, and the container disposes it,
    /// not this registration. The schema is ensured when the host starts; releases and completions reach waiters in
    /// other processes through LISTEN/NOTIFY on a connection of that data source. When no <see cref="NpgsqlDataSource"/>
    /// is registered the host fails to start with a message naming <c>AddNpgsqlDataSource</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">
    /// Adjusts the options (table prefix, timeout); <c>services.Configure&lt;SqlLeasingOptions&gt;(...)</c> does as well.
    /// Validated when the host starts.
    /// </param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddPostgresLeasing(this IServiceCollection services, Action<SqlLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqlLeasingOptions>, NpgsqlDataSourceRequiredValidator>());
        return AddBorrowed(services, static provider => provider.GetRequiredService<NpgsqlDataSource>(), configure);
    }

    /// <summary>
    /// Registers the SQL stores (<see cref="SqlLeaseStore"/> as <see cref="Leasing.ILeaseStore"/>) on the data source
    /// <paramref name="dataSource"/> returns, called once, when the stores are first needed (for example a keyed one:
    /// <c>provider =&gt; provider.GetRequiredKeyedService&lt;NpgsqlDataSource&gt;("leasing")</c>). The container does not
    /// dispose it through this registration: whoever created it does. The schema is ensured when the host starts;
    /// releases and completions reach waiters in other processes through LISTEN/NOTIFY on a connection of that data source.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="dataSource">Returns the data source to use.</param>
    /// <param name="configure">Adjusts the options (table prefix, timeout); validated when the host starts.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddPostgresLeasing(this IServiceCollection services, Func<IServiceProvider, NpgsqlDataSource> dataSource, Action<SqlLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(dataSource);
        return AddBorrowed(services, dataSource, configure);
    }

    private static IServiceCollection AddBorrowed(IServiceCollection services, Func<IServiceProvider, NpgsqlDataSource> dataSource, Action<SqlLeasingOptions>? configure)
    {
        // One data source for the stores and the LISTEN connection, taken once; the stores see a wrapper whose
        // disposal by the container leaves the borrowed data source open for its owner.
        services.TryAddSingleton(provider => new PostgresLeasingDataSource(dataSource(provider)));
        services.TryAddSingleton<ISqlNotificationChannel>(static provider =>
            new NpgsqlNotificationChannel(provider.GetRequiredService<PostgresLeasingDataSource>().DataSource));
        return services.AddSqlLeasing(
            static provider => new BorrowedDataSource(provider.GetRequiredService<PostgresLeasingDataSource>().DataSource),
            SqlDialect.PostgreSql,
            configure);
    }
}
