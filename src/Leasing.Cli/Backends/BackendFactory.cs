using Leasing.InMemory;
using Leasing.Redis;
using Leasing.Sql;
using Microsoft.Data.Sqlite;
using Npgsql;
using StackExchange.Redis;

namespace Leasing.Cli.Backends;

/// <summary>Opens the backend a command names: the one place that knows how each store is built.</summary>
internal static class BackendFactory
{
    /// <summary>Opens <paramref name="choice"/>, creating the schema where the backend has one.</summary>
    /// <param name="choice">The backend.</param>
    /// <param name="createIfMissing">For a SQLite file: create it if missing (the demo), or fail (operator commands, where a missing file is a typo).</param>
    /// <param name="cancellationToken">Cancels the connection.</param>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="FileNotFoundException">The SQLite file does not exist and may not be created.</exception>
    /// <exception cref="NotSupportedException">This build has no such backend.</exception>
    public static async Task<Backend> OpenAsync(BackendChoice choice, bool createIfMissing, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return choice.Kind switch
        {
            BackendKind.Memory => new Backend(choice, new InMemoryLeaseStore(), new InMemoryIdempotencyStore()),
            BackendKind.Sqlite => await OpenSqliteAsync(choice, createIfMissing, cancellationToken).ConfigureAwait(false),
            BackendKind.Postgres => await OpenPostgresAsync(choice, cancellationToken).ConfigureAwait(false),
            BackendKind.Redis => await OpenRedisAsync(choice, cancellationToken).ConfigureAwait(false),
            _ => throw new NotSupportedException($"The {choice.Kind.ToString().ToLowerInvariant()} backend is not available in this build."),
        };
    }

    private static async Task<Backend> OpenSqliteAsync(BackendChoice choice, bool createIfMissing, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(choice.Connection!);
        if (!createIfMissing && !File.Exists(path))
        {
            throw new FileNotFoundException($"No SQLite database at '{path}'.", path);
        }

        var connection = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        var dataSource = SqliteFactory.Instance.CreateDataSource(connection);
        async ValueTask CloseAsync()
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            SqliteConnection.ClearAllPools();
        }

        return await OpenSqlAsync(choice with { Connection = path }, dataSource, SqlDialect.Sqlite, CloseAsync, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Backend> OpenPostgresAsync(BackendChoice choice, CancellationToken cancellationToken)
    {
        NpgsqlDataSource dataSource;
        try
        {
            dataSource = NpgsqlDataSource.Create(choice.Connection!);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The --postgres connection string is not valid: {e.Message}", e);
        }

        return await OpenSqlAsync(choice, dataSource, SqlDialect.PostgreSql, dataSource.DisposeAsync, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Backend> OpenRedisAsync(BackendChoice choice, CancellationToken cancellationToken)
    {
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(choice.Connection!);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The --redis connection string is not valid: {e.Message}", e);
        }

        configuration.AbortOnConnectFail = true;
        IConnectionMultiplexer redis;
        try
        {
            redis = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            throw new LeaseStoreUnavailableException("Could not connect to Redis.", e);
        }

        var options = choice.Prefix is null ? null : new RedisLeasingOptions { KeyPrefix = choice.Prefix };
        return new Backend(choice, new RedisLeaseStore(redis, options), new RedisIdempotencyStore(redis, options), redis.DisposeAsync);
    }

    private static SqlLeasingOptions? SqlOptions(BackendChoice choice) =>
        choice.Prefix is null ? null : new SqlLeasingOptions { TablePrefix = choice.Prefix };

    private static async Task<Backend> OpenSqlAsync(BackendChoice choice, System.Data.Common.DbDataSource dataSource, SqlDialect dialect, Func<ValueTask> close, CancellationToken cancellationToken)
    {
        try
        {
            var leases = new SqlLeaseStore(dataSource, dialect, SqlOptions(choice));
            var idempotency = new SqlIdempotencyStore(dataSource, dialect, SqlOptions(choice));
            await leases.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            await idempotency.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            return new Backend(choice, leases, idempotency, close);
        }
        catch
        {
            await close().ConfigureAwait(false);
            throw;
        }
    }
}
