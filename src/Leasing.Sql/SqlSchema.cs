using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Leasing.Sql;

/// <summary>One set of tables with its own schema version row: its name in the version table, its version, its DDL.</summary>
internal sealed record SqlComponent(string Name, int Version, Func<SqlNames, SqlDialect, bool, string> Ddl);

/// <summary>
/// Creates the tables of one component (leases or idempotency) if missing and checks the version row,
/// so a later release can migrate instead of misreading. Safe to run from several processes at once
/// (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE). The same DDL, with the version rows written
/// out, is the script <see cref="SqlLeasingSchema.GetScript(SqlDialect, SqlLeasingOptions)"/> prints for a DBA: there is no second copy.
/// </summary>
internal static class SqlSchema
{
    public static readonly SqlComponent Leases = new("leases", 1, LeaseStatements.Schema);

    public static readonly SqlComponent Idempotency = new("idempotency", 1, static (n, dialect, _) => IdempotencyStatements.Schema(n, dialect));

    private static string VersionTable(SqlNames n, SqlDialect dialect) => dialect == SqlDialect.PostgreSql
        ? $"CREATE TABLE IF NOT EXISTS {n.Schema} (component text PRIMARY KEY, version integer NOT NULL);"
        : $"CREATE TABLE IF NOT EXISTS {n.Schema} (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT;";

    // Records the version a component's tables were created with; a row already there (same or other version) stays.
    private static string VersionRow(SqlNames n, string component, string version) =>
        $"INSERT INTO {n.Schema} (component, version) VALUES ({component}, {version}) ON CONFLICT (component) DO NOTHING;";

    /// <summary>Every statement the stores' EnsureSchemaAsync run for both components, as one transaction, version rows included.</summary>
    public static string Script(SqlNames n, SqlDialect dialect, bool unlogged)
    {
        var pg = dialect == SqlDialect.PostgreSql;
        var script = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"-- Leasing: the lease and idempotency tables with prefix '{n.Prefix}' ({(pg ? "PostgreSQL" : "SQLite")}), ")
            .Append("as SqlLeaseStore and SqlIdempotencyStore.EnsureSchemaAsync create them. Every statement is idempotent.\n");
        if (!pg)
        {
            script.Append("PRAGMA journal_mode = WAL;\n");
        }

        script.Append("BEGIN;\n").Append(VersionTable(n, dialect)).Append('\n');

        // A statement both components create (the waiters table) is written once.
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var component in (SqlComponent[])[Leases, Idempotency])
        {
            script.Append('\n');
            foreach (var line in component.Ddl(n, dialect, unlogged).Split('\n'))
            {
                var whole = line.StartsWith("CREATE ", StringComparison.Ordinal) && line.EndsWith(';');
                if (!whole || written.Add(line))
                {
                    script.Append(line).Append('\n');
                }
            }

            script.Append(VersionRow(n, $"'{component.Name}'", component.Version.ToString(CultureInfo.InvariantCulture))).Append('\n');
        }

        return script.Append("COMMIT;\n").ToString();
    }

    /// <summary>
    /// Creates the component's tables if missing and checks its version row; with <see cref="SqlLeasingOptions.EnsureSchema"/>
    /// off it only checks the version row, and fails when the tables are missing.
    /// </summary>
    public static async ValueTask EnsureAsync(SqlRunner runner, SqlComponent component, CancellationToken cancellationToken)
    {
        var n = runner.Names;
        var pg = runner.Dialect == SqlDialect.PostgreSql;
        var select = $"SELECT version FROM {n.Schema} WHERE component = @component;";
        var script = !runner.EnsureSchema
            ? runner.Preamble + select
            : (pg
                ? $"BEGIN; SELECT pg_advisory_xact_lock(hashtext('{n.Schema}'));\n"
                : "PRAGMA journal_mode = WAL;\n" + runner.Preamble + "BEGIN IMMEDIATE;\n")
            + VersionTable(n, runner.Dialect) + "\n"
            + component.Ddl(n, runner.Dialect, runner.UnloggedLeaseTables) + "\n"
            + VersionRow(n, "@component", "@version") + "\n"
            + "COMMIT;\n"
            + select;

        await runner.ScriptAsync(
            async (connection, token) =>
            {
                var args = new SqlArgs().Text("component", component.Name);
                if (runner.EnsureSchema)
                {
                    args.Int64("version", component.Version);
                }

                using var command = runner.Prepare(connection, script, args);
                long? stored = null;
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
                catch (DbException e) when (!runner.EnsureSchema)
                {
                    throw Missing(n, component, runner.Dialect, e);
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

                if (stored is null && !runner.EnsureSchema)
                {
                    throw Missing(n, component, runner.Dialect, null);
                }

                if (stored > component.Version)
                {
                    throw new InvalidOperationException(
                        $"The {component.Name} tables with prefix '{n.Prefix}' have schema version {stored}; this release understands up to {component.Version}. Upgrade the package.");
                }

                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static InvalidOperationException Missing(SqlNames n, SqlComponent component, SqlDialect dialect, Exception? inner) => new(
        $"The {component.Name} tables with prefix '{n.Prefix}' are missing (no version row in {n.Schema}), and SqlLeasingOptions.EnsureSchema is off, " +
        $"so the store does not create them. Apply the DDL that `leasing schema --{(dialect == SqlDialect.PostgreSql ? "postgres" : "sqlite")} --prefix {n.Prefix}` " +
        "prints (or SqlLeasingSchema.GetScript), or turn EnsureSchema on." + (inner is null ? string.Empty : $" ({inner.Message})"),
        inner);
}
