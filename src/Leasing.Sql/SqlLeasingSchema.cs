namespace Leasing.Sql;

/// <summary>
/// The DDL of the SQL stores, for a DBA or a migration tool: what <see cref="SqlLeaseStore.EnsureSchemaAsync"/> and
/// <see cref="SqlIdempotencyStore.EnsureSchemaAsync"/> run, built from the same statements. Apply it and set
/// <see cref="SqlLeasingOptions.EnsureSchema"/> to <see langword="false"/> so the application needs no DDL rights.
/// </summary>
public static class SqlLeasingSchema
{
    /// <summary>
    /// The script that creates the lease and idempotency tables, indexes, sequence and schema version rows of one
    /// table prefix, as one transaction. Every statement is idempotent (<c>IF NOT EXISTS</c>, <c>ON CONFLICT DO NOTHING</c>),
    /// so running it on an existing schema of this version changes nothing.
    /// </summary>
    /// <param name="dialect">The database the script is for.</param>
    /// <param name="tablePrefix">The table prefix, as in <see cref="SqlLeasingOptions.TablePrefix"/>.</param>
    /// <returns>The script, statements separated by semicolons and new lines.</returns>
    /// <exception cref="ArgumentException"><paramref name="tablePrefix"/> is not a valid prefix.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dialect"/> is not a defined dialect.</exception>
    public static string GetScript(SqlDialect dialect, string tablePrefix = "leasing_")
    {
        ThrowIfUndefined(dialect);
        return SqlSchema.Script(new SqlNames(tablePrefix, nameof(tablePrefix)), dialect, unlogged: false);
    }

    /// <summary>
    /// The script of <see cref="GetScript(SqlDialect, string)"/> for the tables <paramref name="options"/> describe: its
    /// <see cref="SqlLeasingOptions.TablePrefix"/> and, on PostgreSQL, <see cref="SqlLeasingOptions.UnloggedLeaseTables"/>
    /// (the lease tables created <c>UNLOGGED</c>; existing tables are left as they are).
    /// </summary>
    /// <param name="dialect">The database the script is for.</param>
    /// <param name="options">The options the application runs with.</param>
    /// <returns>The script, statements separated by semicolons and new lines.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options break a rule; the message names the option and the rule.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dialect"/> is not a defined dialect.</exception>
    public static string GetScript(SqlDialect dialect, SqlLeasingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfUndefined(dialect);

        SqlLeasingOptionsValidator.ThrowIfInvalid(options, nameof(options));
        return SqlSchema.Script(new SqlNames(options.TablePrefix, nameof(options)), dialect, options.UnloggedLeaseTables && dialect == SqlDialect.PostgreSql);
    }

    private static void ThrowIfUndefined(SqlDialect dialect)
    {
        if (dialect is not SqlDialect.Sqlite and not SqlDialect.PostgreSql)
        {
            throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "The dialect must be SqlDialect.Sqlite or SqlDialect.PostgreSql.");
        }
    }
}
