using System.Data.Common;
using System.Globalization;

namespace Leasing.Sql;

/// <summary>
/// Creates the tables of one component (leases or idempotency) if missing and checks the version row,
/// so a later release can migrate instead of misreading. Safe to run from several processes at once
/// (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE).
/// </summary>
internal static class SqlSchema
{
    public static async ValueTask EnsureAsync(SqlRunner runner, string component, int version, string postgresDdl, string sqliteDdl, CancellationToken cancellationToken)
    {
        var n = runner.Names;
        var pg = runner.Dialect == SqlDialect.PostgreSql;
        var versionTable = pg
            ? $"CREATE TABLE IF NOT EXISTS {n.Schema} (component text PRIMARY KEY, version integer NOT NULL);"
            : $"CREATE TABLE IF NOT EXISTS {n.Schema} (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;";
        var script = (pg
                ? $"BEGIN; SELECT pg_advisory_xact_lock(hashtext('{n.Schema}'));\n"
                : "PRAGMA journal_mode = WAL;\n" + runner.Preamble + "BEGIN IMMEDIATE;\n")
            + versionTable + "\n"
            + (pg ? postgresDdl : sqliteDdl) + "\n"
            + $"INSERT INTO {n.Schema} (component, version) VALUES (@component, @version) ON CONFLICT (component) DO NOTHING;\n"
            + "COMMIT;\n"
            + $"SELECT version FROM {n.Schema} WHERE component = @component;";

        await runner.ScriptAsync(
            async (connection, token) =>
            {
                using var command = runner.Prepare(connection, script, new SqlArgs().Text("component", component).Int64("version", version));
                var stored = 0L;
                try
                {
                    var reader = await command.ExecuteReaderAsync(token).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        do
                        {
                            if (reader.FieldCount == 1 && string.Equals(reader.GetName(0), "version", StringComparison.OrdinalIgnoreCase)
                                && await reader.ReadAsync(token).ConfigureAwait(false))
                            {
                                stored = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
                            }
                        }
                        while (await reader.NextResultAsync(token).ConfigureAwait(false));
                    }
                }
                catch (DbException)
                {
                    using var rollback = connection.CreateCommand();
                    rollback.CommandText = "ROLLBACK";
                    try
                    {
                        await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (DbException)
                    {
                        // Nothing was open.
                    }

                    throw;
                }

                if (stored > version)
                {
                    throw new InvalidOperationException(
                        $"The {component} tables with prefix '{n.Prefix}' have schema version {stored}; this release understands up to {version}. Upgrade the package.");
                }

                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }
}
