using Npgsql;

namespace Leasing.Sql;

/// <summary>The borrowed data source the PostgreSQL registration uses; not disposable, so the container leaves it to its owner.</summary>
internal sealed class PostgresLeasingDataSource(NpgsqlDataSource dataSource)
{
    public NpgsqlDataSource DataSource { get; } = dataSource ?? throw new InvalidOperationException(
        "The data source factory passed to AddPostgresLeasing returned null.");
}
