namespace Leasing.Sql;

/// <summary>
/// Runs a purge statement in batches of <see cref="BatchSize"/> rows until a batch comes back short, so no
/// statement holds its locks (or SQLite's one writer) for long and other writers run between batches.
/// </summary>
internal static class SqlPurge
{
    public const int BatchSize = 500;

    /// <summary>How long a lock-key row is kept past the end of its last lease or cooldown (as on Redis).</summary>
    public static readonly TimeSpan LeaseRowKeep = TimeSpan.FromDays(1);

    /// <summary>Runs <paramref name="sql"/> (which deletes up to @batch rows and returns one row per deleted row) until done.</summary>
    public static async ValueTask<int> RunAsync(SqlRunner runner, string sql, Func<SqlArgs> args, CancellationToken cancellationToken)
    {
        var removed = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = await runner.QueryListAsync(sql, args().Int64("batch", BatchSize), static _ => true, cancellationToken, write: true).ConfigureAwait(false);
            removed += batch.Count;
            if (batch.Count < BatchSize)
            {
                return removed;
            }
        }
    }
}
