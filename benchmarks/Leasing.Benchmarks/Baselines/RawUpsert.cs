using Npgsql;

namespace Leasing.Benchmarks.Baselines;

/// <summary>
/// The physical limit on PostgreSQL: one prepared single-row upsert through Npgsql on a pooled
/// connection. A pair is two of them on the same row, as an acquire plus a release would be at best.
/// </summary>
internal sealed class RawUpsert : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;
    private readonly string _upsert;
    private readonly int _rows;

    private RawUpsert(NpgsqlDataSource dataSource, string table, int rows)
    {
        _dataSource = dataSource;
        _table = table;
        _rows = rows;
        _upsert = $"INSERT INTO {table} (k, owner, expires_at) VALUES ($1, $2, clock_timestamp() + interval '30 seconds') " +
                  "ON CONFLICT (k) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at";
    }

    /// <summary>Creates the table <paramref name="table"/> (a name this run owns; dropped by <see cref="DisposeAsync"/>).</summary>
    public static async Task<RawUpsert> CreateAsync(NpgsqlDataSource dataSource, string table, int rows)
    {
        await using var command = dataSource.CreateCommand(
            $"CREATE TABLE {table} (k text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)");
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        return new RawUpsert(dataSource, table, rows);
    }

    public async ValueTask UpsertAsync(int slot, string owner)
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(_upsert, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"ch-{slot % _rows}" });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
        await command.PrepareAsync().ConfigureAwait(false);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public async ValueTask PairAsync(int slot)
    {
        await UpsertAsync(slot, "owner").ConfigureAwait(false);
        await UpsertAsync(slot, "").ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await using var command = _dataSource.CreateCommand($"DROP TABLE IF EXISTS {_table}");
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
