namespace Leasing.Cli.Backends;

/// <summary>The backends the CLI can talk to.</summary>
internal enum BackendKind
{
    /// <summary>In this process only (the demo without a server).</summary>
    Memory,

    /// <summary>A SQLite file.</summary>
    Sqlite,

    /// <summary>A Redis server.</summary>
    Redis,

    /// <summary>A PostgreSQL server.</summary>
    Postgres,
}

/// <summary>A backend named on the command line: its kind, its file path or connection string, and the table or key prefix the application configured (null: the default).</summary>
internal sealed record BackendChoice(BackendKind Kind, string? Connection, string? Prefix = null)
{
    /// <summary>The table prefix (SQL) or key prefix (Redis) the commands look under: <see cref="Prefix"/> or the library's default.</summary>
    public string? EffectivePrefix => Prefix ?? Kind switch
    {
        BackendKind.Sqlite or BackendKind.Postgres => new Leasing.Sql.SqlLeasingOptions().TablePrefix,
        BackendKind.Redis => new Leasing.Redis.RedisLeasingOptions().KeyPrefix,
        _ => null,
    };

    /// <summary>Where the commands looked, for "not found" messages: the backend and the prefix, and how to look elsewhere.</summary>
    public string Where() => EffectivePrefix is not { } prefix
        ? ToString()
        : Kind == BackendKind.Redis
            ? $"{this} under key prefix '{prefix}' (an application that set RedisLeasingOptions.KeyPrefix needs --prefix)"
            : $"{this} under table prefix '{prefix}' (an application that set SqlLeasingOptions.TablePrefix needs --prefix)";

    /// <summary>Describes the backend for people without printing a password.</summary>
    public override string ToString() => Kind switch
    {
        BackendKind.Memory => "in-memory",
        BackendKind.Sqlite => $"sqlite ({Connection})",
        BackendKind.Redis => "redis",
        BackendKind.Postgres => "postgres",
        _ => Kind.ToString(),
    };
}
