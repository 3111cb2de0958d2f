using System.CommandLine;
using Leasing.Sql;

namespace Leasing.Cli.Commands;

/// <summary>
/// <c>leasing schema --postgres|--sqlite [--prefix P] [--unlogged]</c>: prints the DDL the SQL stores run (the same text), for a DBA
/// who creates the tables ahead and runs the application with <c>SqlLeasingOptions.EnsureSchema = false</c>.
/// </summary>
internal static class SchemaCommand
{
    public static Command Create(CliConsole console)
    {
        var postgres = new Option<bool>("--postgres") { Description = "PostgreSQL DDL." };
        var sqlite = new Option<bool>("--sqlite") { Description = "SQLite DDL." };
        var prefix = new Option<string>("--prefix")
        {
            Description = "The table prefix the application configured (SqlLeasingOptions.TablePrefix).",
            HelpName = "PREFIX",
            DefaultValueFactory = _ => new SqlLeasingOptions().TablePrefix,
        };
        var unlogged = new Option<bool>("--unlogged")
        {
            Description = "PostgreSQL: the lease tables UNLOGGED (SqlLeasingOptions.UnloggedLeaseTables): faster writes, emptied by a server crash.",
        };
        var command = new Command(
            "schema",
            "Print the DDL of the lease and idempotency tables (what the stores run at start), to apply ahead and run with SqlLeasingOptions.EnsureSchema = false.")
        {
            postgres,
            sqlite,
            prefix,
            unlogged,
        };
        command.Validators.Add(result =>
        {
            var pg = result.GetValue(postgres);
            var lite = result.GetValue(sqlite);
            if (pg == lite)
            {
                result.AddError(pg ? "Options --postgres and --sqlite cannot be combined: name one database." : "Name the database: --postgres or --sqlite.");
            }
            else if (lite && result.GetValue(unlogged))
            {
                result.AddError("Option --unlogged is for --postgres: SQLite has no unlogged tables.");
            }
        });
        command.SetAction(result =>
        {
            var dialect = result.GetValue(postgres) ? SqlDialect.PostgreSql : SqlDialect.Sqlite;
            var options = new SqlLeasingOptions { TablePrefix = result.GetValue(prefix)!, UnloggedLeaseTables = result.GetValue(unlogged) };
            console.Out.Write(SqlLeasingSchema.GetScript(dialect, options));
            console.Out.Flush();
            return ExitCodes.Ok;
        });
        return command;
    }
}
