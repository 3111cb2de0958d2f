using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace Leasing.Sql;

/// <summary>
/// A <see cref="DbDataSource"/> that hands out the connections of another and never disposes it: the stores may
/// be disposed with the container while the application still owns, and uses, the data source it lent them.
/// </summary>
internal sealed class BorrowedDataSource(DbDataSource inner) : DbDataSource
{
    [AllowNull]
    public override string ConnectionString => inner.ConnectionString;

    protected override DbConnection CreateDbConnection() => inner.CreateConnection();

    protected override ValueTask<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken = default) =>
        inner.OpenConnectionAsync(cancellationToken);

    protected override DbConnection OpenDbConnection() => inner.OpenConnection();

    protected override DbCommand CreateDbCommand(string? commandText = null) => inner.CreateCommand(commandText);

    protected override DbBatch CreateDbBatch() => inner.CreateBatch();
}
