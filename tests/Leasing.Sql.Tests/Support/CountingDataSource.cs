using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Leasing.Sql.Tests.Support;

/// <summary>Wraps a data source and counts the commands executed through it (each is one round trip).</summary>
public sealed class CountingDataSource(DbDataSource inner) : DbDataSource
{
    private int commands;

    public int Commands => Volatile.Read(ref commands);

    public List<string> Texts { get; } = [];

    [AllowNull]
    public override string ConnectionString => inner.ConnectionString;

    internal void Count(string text)
    {
        Interlocked.Increment(ref commands);
        lock (Texts)
        {
            Texts.Add(text);
        }
    }

    protected override DbConnection CreateDbConnection() => new CountingConnection(inner.CreateConnection(), this);

    private sealed class CountingConnection(DbConnection connection, CountingDataSource owner) : DbConnection
    {
        [AllowNull]
        public override string ConnectionString { get => connection.ConnectionString; set => connection.ConnectionString = value; }

        public override string Database => connection.Database;

        public override string DataSource => connection.DataSource;

        public override string ServerVersion => connection.ServerVersion;

        public override ConnectionState State => connection.State;

        public override void ChangeDatabase(string databaseName) => connection.ChangeDatabase(databaseName);

        public override void Close() => connection.Close();

        public override Task CloseAsync() => connection.CloseAsync();

        public override void Open() => connection.Open();

        public override Task OpenAsync(CancellationToken cancellationToken) => connection.OpenAsync(cancellationToken);

        public override async ValueTask DisposeAsync()
        {
            await connection.DisposeAsync();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                connection.Dispose();
            }

            base.Dispose(disposing);
        }

        protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => connection.BeginTransaction(isolationLevel);

        protected override DbCommand CreateDbCommand() => new CountingCommand(connection.CreateCommand(), this, owner);
    }

    private sealed class CountingCommand(DbCommand command, DbConnection wrapper, CountingDataSource owner) : DbCommand
    {
        [AllowNull]
        public override string CommandText { get => command.CommandText; set => command.CommandText = value; }

        public override int CommandTimeout { get => command.CommandTimeout; set => command.CommandTimeout = value; }

        public override CommandType CommandType { get => command.CommandType; set => command.CommandType = value; }

        public override bool DesignTimeVisible { get => command.DesignTimeVisible; set => command.DesignTimeVisible = value; }

        public override UpdateRowSource UpdatedRowSource { get => command.UpdatedRowSource; set => command.UpdatedRowSource = value; }

        protected override DbConnection? DbConnection { get => wrapper; set => throw new NotSupportedException(); }

        protected override DbParameterCollection DbParameterCollection => command.Parameters;

        protected override DbTransaction? DbTransaction { get => command.Transaction; set => command.Transaction = value; }

        public override void Cancel() => command.Cancel();

        public override int ExecuteNonQuery()
        {
            owner.Count(CommandText);
            return command.ExecuteNonQuery();
        }

        public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
        {
            owner.Count(CommandText);
            return command.ExecuteNonQueryAsync(cancellationToken);
        }

        public override object? ExecuteScalar()
        {
            owner.Count(CommandText);
            return command.ExecuteScalar();
        }

        public override void Prepare() => command.Prepare();

        public override Task PrepareAsync(CancellationToken cancellationToken = default) => command.PrepareAsync(cancellationToken);

        protected override DbParameter CreateDbParameter() => command.CreateParameter();

        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
        {
            owner.Count(CommandText);
            return command.ExecuteReader(behavior);
        }

        protected override Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken)
        {
            owner.Count(CommandText);
            return command.ExecuteReaderAsync(behavior, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                command.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
