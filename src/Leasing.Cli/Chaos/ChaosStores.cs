using System.Data.Common;
using Leasing.Cli.Backends;
using Leasing.Redis;
using Leasing.Sql;
using Microsoft.Data.Sqlite;
using Npgsql;
using StackExchange.Redis;

namespace Leasing.Cli.Chaos;

/// <summary>
/// The stores a chaos worker (or the coordinator, for schema and clean-up) uses: short command
/// timeouts, clients that reconnect on their own, and names private to one run (a key or table
/// prefix), so a run against a real deployment touches nothing else and can remove what it wrote.
/// </summary>
internal sealed class ChaosStores(ILeaseStore leases, IIdempotencyStore idempotency, Func<ValueTask> close) : IAsyncDisposable
{
    public ILeaseStore Leases { get; } = leases;

    public IIdempotencyStore Idempotency { get; } = idempotency;

    /// <summary>The Redis key prefix or SQL table prefix of run <paramref name="run"/>.</summary>
    public static string Prefix(BackendKind kind, string run) => kind == BackendKind.Redis ? $"leasing-chaos-{run}" : $"leasing_chaos_{run}_";

    public static async Task<ChaosStores> OpenAsync(BackendKind kind, string connection, string run, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case BackendKind.Redis:
            {
                var configuration = ConfigurationOptions.Parse(connection);
                configuration.AbortOnConnectFail = false; // reconnect after drops and restarts, in the background
                configuration.ConnectTimeout = (int)ChaosSettings.CommandTimeout.TotalMilliseconds;
                configuration.AsyncTimeout = (int)ChaosSettings.CommandTimeout.TotalMilliseconds;
                configuration.SyncTimeout = (int)ChaosSettings.CommandTimeout.TotalMilliseconds;
                configuration.ReconnectRetryPolicy = new LinearRetry(100);
                var redis = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
                var options = new RedisLeasingOptions { KeyPrefix = Prefix(kind, run), CommandTimeout = ChaosSettings.CommandTimeout };
                return new ChaosStores(new RedisLeaseStore(redis, options), new RedisIdempotencyStore(redis, options), redis.DisposeAsync);
            }

            case BackendKind.Postgres:
            {
                var builder = new NpgsqlConnectionStringBuilder(connection) { Timeout = 2, CancellationTimeout = 500 };
                var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
                var notifications = new NpgsqlNotificationChannel(dataSource);
                async ValueTask CloseAsync()
                {
                    await notifications.DisposeAsync().ConfigureAwait(false);
                    await dataSource.DisposeAsync().ConfigureAwait(false);
                }

                return Sql(dataSource, SqlDialect.PostgreSql, run, notifications, CloseAsync);
            }

            case BackendKind.Sqlite:
            {
                var dataSource = SqliteFactory.Instance.CreateDataSource(new SqliteConnectionStringBuilder { DataSource = connection, Pooling = true }.ToString());
                async ValueTask CloseAsync()
                {
                    await dataSource.DisposeAsync().ConfigureAwait(false);
                    SqliteConnection.ClearAllPools();
                }

                return Sql(dataSource, SqlDialect.Sqlite, run, null, CloseAsync);
            }

            default:
                throw new NotSupportedException($"The chaos run does not support the {kind} backend.");
        }
    }

    /// <summary>Creates the run's tables (SQL; once, before the workers start).</summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (Leases is SqlLeaseStore leases && Idempotency is SqlIdempotencyStore idempotency)
        {
            await leases.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            await idempotency.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => close();

    private static ChaosStores Sql(DbDataSource dataSource, SqlDialect dialect, string run, ISqlNotificationChannel? notifications, Func<ValueTask> close)
    {
        var options = new SqlLeasingOptions
        {
            TablePrefix = Prefix(dialect == SqlDialect.Sqlite ? BackendKind.Sqlite : BackendKind.Postgres, run),
            CommandTimeout = ChaosSettings.CommandTimeout,
            Notifications = notifications,
        };
        return new ChaosStores(new SqlLeaseStore(dataSource, dialect, options), new SqlIdempotencyStore(dataSource, dialect, options), close);
    }
}
