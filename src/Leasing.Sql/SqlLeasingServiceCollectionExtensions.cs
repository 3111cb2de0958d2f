using System.Data.Common;
using Leasing;
using Leasing.Sql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the SQL backend over a data source the caller builds (any ADO.NET driver). The driver
/// packages' <c>AddSqliteLeasing</c> (Leasing.Sql.Sqlite) and <c>AddPostgresLeasing</c> (Leasing.Sql.PostgreSql) call this.
/// </summary>
public static class SqlLeasingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SqlLeaseStore"/> as the singleton <see cref="ILeaseStore"/> and
    /// <see cref="SqlIdempotencyStore"/> as the singleton <see cref="IIdempotencyStore"/> (unless registered), over the data source <paramref name="dataSource"/> creates, a hosted service that
    /// ensures the schema when the host starts, and one that purges expired rows every <see cref="SqlLeasingOptions.PurgeInterval"/>
    /// and, on PostgreSQL, vacuums the lease tables every <see cref="SqlLeasingOptions.VacuumInterval"/> (timed by the options' clock)
    /// until the host stops. The store uses the registered <see cref="TimeProvider"/>
    /// as the SQLite clock when <see cref="SqlLeasingOptions.TimeProvider"/> is not set.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="dataSource">Creates the data source; it is created once and disposed with the container.</param>
    /// <param name="dialect">The dialect of the data source.</param>
    /// <param name="configure">
    /// Adjusts the options (table prefix, timeout). The options are <see cref="SqlLeasingOptions"/> of the options system, so
    /// <c>services.Configure&lt;SqlLeasingOptions&gt;(configuration.GetSection(...))</c> binds them too; they are validated
    /// when the host starts (<c>ValidateOnStart</c>), with messages that name the option and the rule.
    /// </param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddSqlLeasing(this IServiceCollection services, Func<IServiceProvider, DbDataSource> dataSource, SqlDialect dialect, Action<SqlLeasingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(dataSource);
        var options = services.AddOptions<SqlLeasingOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqlLeasingOptions>, SqlLeasingOptionsValidator>());
        services.TryAddSingleton(new SqlBackendRegistration(dialect));
        services.TryAddKeyedSingleton<DbDataSource>(SqlBackendRegistration.Key, (provider, _) => dataSource(provider));
        services.TryAddSingleton(static provider =>
        {
            var registration = provider.GetRequiredService<SqlBackendRegistration>();
            return new SqlLeaseStore(SqlBackendRegistration.DataSource(provider), registration.Dialect, SqlBackendRegistration.Options(provider));
        });
        services.TryAddSingleton<ILeaseStore>(static provider => provider.GetRequiredService<SqlLeaseStore>());
        services.TryAddSingleton(static provider =>
        {
            var registration = provider.GetRequiredService<SqlBackendRegistration>();
            return new SqlIdempotencyStore(SqlBackendRegistration.DataSource(provider), registration.Dialect, SqlBackendRegistration.Options(provider));
        });
        services.TryAddSingleton<IIdempotencyStore>(static provider => provider.GetRequiredService<SqlIdempotencyStore>());
        services.AddHostedService<SqlSchemaInitializer>();
        services.AddHostedService<SqlPurgeService>();
        return services;
    }
}

/// <summary>What <see cref="SqlLeasingServiceCollectionExtensions.AddSqlLeasing"/> registered.</summary>
internal sealed class SqlBackendRegistration(SqlDialect dialect)
{
    public const string Key = "Leasing.Sql";

    public SqlDialect Dialect { get; } = dialect;

    public static DbDataSource DataSource(IServiceProvider provider) => provider.GetRequiredKeyedService<DbDataSource>(Key);

    /// <summary>A copy of the configured options, with the container's clock and notification channel where none is set.</summary>
    public static SqlLeasingOptions Options(IServiceProvider provider)
    {
        var configured = provider.GetRequiredService<IOptions<SqlLeasingOptions>>().Value;
        return new SqlLeasingOptions
        {
            TablePrefix = configured.TablePrefix,
            CommandTimeout = configured.CommandTimeout,
            PurgeInterval = configured.PurgeInterval,
            VacuumInterval = configured.VacuumInterval,
            UnloggedLeaseTables = configured.UnloggedLeaseTables,
            EnsureSchema = configured.EnsureSchema,
            TimeProvider = configured.TimeProvider ?? provider.GetService<TimeProvider>(),
            Notifications = configured.Notifications ?? provider.GetService<ISqlNotificationChannel>(),
        };
    }
}

/// <summary>
/// Ensures the SQL schema when the host starts, so the first lease does not pay for it (or fail on it); with
/// <see cref="SqlLeasingOptions.EnsureSchema"/> off it runs no DDL and fails the start when the tables are missing.
/// </summary>
internal sealed class SqlSchemaInitializer(IServiceProvider provider) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await provider.GetRequiredService<SqlLeaseStore>().EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await provider.GetRequiredService<SqlIdempotencyStore>().EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
