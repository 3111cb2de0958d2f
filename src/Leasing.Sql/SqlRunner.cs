using System.Data;
using System.Data.Common;
using System.Net.Sockets;

namespace Leasing.Sql;

/// <summary>
/// Runs one command per call on a connection from the data source, within the caller's token and the
/// configured timeout, and turns driver errors into <see cref="LeaseStoreUnavailableException"/>.
/// </summary>
internal sealed class SqlRunner
{
    // SQLite has one writer per file: writers of this process queue here without blocking threads,
    // so only other processes' writes reach SQLite's busy wait (which blocks the calling thread).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DbDataSource, SemaphoreSlim> WriteGates = new();

    private readonly SemaphoreSlim? _writeGate;
    private readonly DbDataSource _source;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly int _timeoutSeconds;

    public SqlRunner(DbDataSource source, SqlDialect dialect, SqlLeasingOptions options, string what)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        if (dialect is not SqlDialect.Sqlite and not SqlDialect.PostgreSql)
        {
            throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "The dialect must be SqlDialect.Sqlite or SqlDialect.PostgreSql.");
        }

        SqlLeasingOptionsValidator.ThrowIfInvalid(options, nameof(options));

        _source = source;
        Dialect = dialect;
        _writeGate = dialect == SqlDialect.Sqlite ? WriteGates.GetValue(source, static _ => new SemaphoreSlim(1, 1)) : null;
        Names = new SqlNames(options.TablePrefix, nameof(options));
        EnsureSchema = options.EnsureSchema;
        UnloggedLeaseTables = options.UnloggedLeaseTables && dialect == SqlDialect.PostgreSql;
        _time = options.TimeProvider ?? TimeProvider.System;
        _timeout = options.CommandTimeout;
        _timeoutSeconds = (int)Math.Ceiling(options.CommandTimeout.TotalSeconds);
        What = what;

        // SQLite: wait for another writer inside SQLite (short sleeps) rather than in the driver's retry
        // loop (150 ms sleeps); WAL with synchronous=NORMAL never corrupts, and a power loss that drops
        // the last commits also ends every holder on this host.
        Preamble = dialect == SqlDialect.Sqlite
            ? $"PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {(long)_timeout.TotalMilliseconds};\n"
            : string.Empty;
    }

    public SqlDialect Dialect { get; }

    public SqlNames Names { get; }

    /// <summary><see cref="SqlLeasingOptions.EnsureSchema"/>: whether EnsureSchemaAsync may run DDL, or only checks the version rows.</summary>
    public bool EnsureSchema { get; }

    /// <summary><see cref="SqlLeasingOptions.UnloggedLeaseTables"/> (PostgreSQL only; false on SQLite).</summary>
    public bool UnloggedLeaseTables { get; }

    /// <summary>Text placed before every SQLite statement (per-connection settings); empty on PostgreSQL.</summary>
    public string Preamble { get; }

    private string What { get; }

    /// <summary>Runs a statement and maps its first row, or returns <paramref name="none"/> when it returns no row.</summary>
    public ValueTask<T> QuerySingleAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> map, T none, CancellationToken cancellationToken, bool write = true) =>
        RunAsync(
            (connection, token) => ReadAsync(
                connection,
                sql,
                args,
                async (reader, readToken) => await reader.ReadAsync(readToken).ConfigureAwait(false) ? map(reader) : none,
                token),
            write,
            cancellationToken);

    /// <summary>Runs a statement and maps every row.</summary>
    public ValueTask<List<T>> QueryListAsync<T>(string sql, SqlArgs args, Func<DbDataReader, T> map, CancellationToken cancellationToken, bool write = false) =>
        RunAsync(
            (connection, token) => ReadAsync(
                connection,
                sql,
                args,
                async (reader, readToken) =>
                {
                    var rows = new List<T>();
                    while (await reader.ReadAsync(readToken).ConfigureAwait(false))
                    {
                        rows.Add(map(reader));
                    }

                    return rows;
                },
                token),
            write,
            cancellationToken);

    /// <summary>Runs a statement (on SQLite possibly a few, one command) and reads all its results with <paramref name="read"/>.</summary>
    public ValueTask<T> QueryAsync<T>(string sql, SqlArgs args, Func<DbDataReader, CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken, bool write = true) =>
        RunAsync((connection, token) => ReadAsync(connection, sql, args, read, token), write, cancellationToken);

    /// <summary>Runs a statement (or, on SQLite, one BEGIN IMMEDIATE ... COMMIT script) and returns the rows it changed.</summary>
    public ValueTask<int> ExecuteAsync(string sql, SqlArgs args, CancellationToken cancellationToken, bool rollbackOnError = false, bool write = true) =>
        RunAsync(
            async (connection, token) =>
            {
                using var command = Prepare(connection, sql, args);
                try
                {
                    return await command.ExecuteNonQueryAsync(token).ConfigureAwait(false);
                }
                catch when (rollbackOnError)
                {
                    await RollBackAsync(connection).ConfigureAwait(false);
                    throw;
                }
            },
            write,
            cancellationToken);

    /// <summary>Runs a script (schema creation) in one call; not counted as an operation.</summary>
    public ValueTask<T> ScriptAsync<T>(Func<DbConnection, CancellationToken, Task<T>> script, CancellationToken cancellationToken) =>
        RunAsync(async (connection, token) => await script(connection, token).ConfigureAwait(false), write: true, cancellationToken, TimeSpan.FromMinutes(1));

    /// <summary>
    /// The frame of every call: the caller's token limited by the command timeout, the SQLite write
    /// gate, one pooled connection, and driver failures turned into <see cref="LeaseStoreUnavailableException"/>.
    /// </summary>
    private async ValueTask<T> RunAsync<T>(Func<DbConnection, CancellationToken, ValueTask<T>> body, bool write, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var limit = Limit(cancellationToken, timeout);
        var gated = false;
        try
        {
            gated = await EnterAsync(write, limit.Token).ConfigureAwait(false);
            var connection = await _source.OpenConnectionAsync(limit.Token).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                return await body(connection, limit.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsOutage(e, cancellationToken))
        {
            throw Unavailable(e, limit);
        }
        finally
        {
            if (gated)
            {
                _writeGate!.Release();
            }
        }
    }

    /// <summary>Prepares and runs a statement, skips the SQLite preamble's results and reads the rest with <paramref name="read"/>.</summary>
    private async ValueTask<T> ReadAsync<T>(DbConnection connection, string sql, SqlArgs args, Func<DbDataReader, CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken)
    {
        using var command = Prepare(connection, sql, args);
        await PrepareOnServerAsync(command, cancellationToken).ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await SkipPreambleAsync(reader, cancellationToken).ConfigureAwait(false);
            return await read(reader, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<bool> EnterAsync(bool write, CancellationToken cancellationToken)
    {
        if (!write || _writeGate is null)
        {
            return false;
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The SQLite clock, in microseconds since the Unix epoch.</summary>
    public long NowMicroseconds() => Fencing.ToUnixMicroseconds(_time.GetUtcNow());

    public DbCommand Prepare(DbConnection connection, string sql, SqlArgs? args)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = _timeoutSeconds;
        if (args is not null)
        {
            foreach (var (name, value, type) in args.Items)
            {
                Add(command, name, value, type);
            }
        }

        if (Dialect == SqlDialect.Sqlite)
        {
            Add(command, "now", NowMicroseconds(), DbType.Int64);
        }

        return command;
    }

    // PostgreSQL: a server-side prepared statement is planned once per physical connection (Npgsql keeps
    // it across pooled opens and makes later calls a lookup), which matters for the pool pick's plan.
    private ValueTask PrepareOnServerAsync(DbCommand command, CancellationToken cancellationToken) =>
        Dialect == SqlDialect.PostgreSql ? new ValueTask(command.PrepareAsync(cancellationToken)) : ValueTask.CompletedTask;

    private static void Add(DbCommand command, string name, object? value, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private ValueTask SkipPreambleAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        // PRAGMA busy_timeout answers with a row: the statement's own rows are the next result.
        return Dialect == SqlDialect.Sqlite ? new ValueTask(reader.NextResultAsync(cancellationToken)) : ValueTask.CompletedTask;
    }

    private static async ValueTask RollBackAsync(DbConnection connection)
    {
        try
        {
            using var rollback = connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (DbException)
        {
            // No transaction was open (it failed to begin): nothing to undo.
        }
    }

    private CancellationTokenSource Limit(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? _timeout);
        return limit;
    }

    private static bool IsOutage(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && e is DbException or TimeoutException or IOException or SocketException or OperationCanceledException;

    private LeaseStoreUnavailableException Unavailable(Exception e, CancellationTokenSource limit) =>
        e is OperationCanceledException || limit.IsCancellationRequested
            ? new LeaseStoreUnavailableException($"The {What} ({Dialect}) did not answer within {_timeout.TotalSeconds:0.###} s.", e)
            : new LeaseStoreUnavailableException($"The {What} ({Dialect}) failed: {e.Message}", e);
}

/// <summary>The parameters of one statement.</summary>
internal sealed class SqlArgs
{
    public List<(string Name, object? Value, DbType Type)> Items { get; } = new(6);

    public SqlArgs Text(string name, string? value)
    {
        Items.Add((name, value, DbType.String));
        return this;
    }

    public SqlArgs Int64(string name, long value)
    {
        Items.Add((name, value, DbType.Int64));
        return this;
    }

    public SqlArgs Bytes(string name, ReadOnlyMemory<byte> value)
    {
        Items.Add((name, value.ToArray(), DbType.Binary));
        return this;
    }
}
