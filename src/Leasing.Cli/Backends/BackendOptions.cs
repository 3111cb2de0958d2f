using System.CommandLine;

namespace Leasing.Cli.Backends;

/// <summary>The <c>--sqlite</c>, <c>--redis</c> and <c>--postgres</c> options, of which a command takes at most one.</summary>
internal sealed class BackendOptions
{
    private readonly bool _required;

    public BackendOptions(bool required)
    {
        _required = required;
        Sqlite = new("--sqlite")
        {
            Description = required ? "A SQLite database file (must exist)." : "A SQLite database file (created with its schema if missing).",
            HelpName = "PATH",
        };
    }

    public Option<string?> Sqlite { get; }

    public Option<string?> Redis { get; } = new("--redis")
    {
        Description = "A Redis connection string (StackExchange.Redis format), e.g. 127.0.0.1:6379.",
        HelpName = "CONN",
    };

    public Option<string?> Postgres { get; } = new("--postgres")
    {
        Description = "A PostgreSQL connection string, e.g. \"Host=127.0.0.1;Username=postgres;Database=leasing\".",
        HelpName = "CONN",
    };

    public Option<string?> Prefix { get; } = new("--prefix")
    {
        Description = "The table prefix (SQL, default leasing_) or key prefix (Redis, default leasing) the application configured.",
        HelpName = "PREFIX",
    };

    /// <summary>Adds the options to <paramref name="command"/> with a check that at most (or, when required, exactly) one is given.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Sqlite);
        command.Options.Add(Redis);
        command.Options.Add(Postgres);
        command.Options.Add(Prefix);
        command.Validators.Add(result =>
        {
            var given = new[] { Sqlite, Redis, Postgres }.Where(o => result.GetResult(o) is not null).Select(o => o.Name).ToArray();
            if (given.Length > 1)
            {
                result.AddError($"Options {string.Join(", ", given)} cannot be combined: name one backend.");
            }
            else if (given.Length == 0 && _required)
            {
                result.AddError("Name the backend: --sqlite PATH, --redis CONN or --postgres CONN.");
            }

            if (result.GetResult(Prefix) is not null && given.Length == 0)
            {
                result.AddError("Option --prefix needs a backend: --sqlite, --redis or --postgres.");
            }

            foreach (var option in new[] { Sqlite, Redis, Postgres })
            {
                if (result.GetResult(option) is not null && string.IsNullOrWhiteSpace(result.GetValue(option)))
                {
                    result.AddError($"Option {option.Name} needs a value.");
                }
            }
        });
    }

    /// <summary>The backend named on the command line, or <see langword="null"/> when none was.</summary>
    public BackendChoice? Read(ParseResult result)
    {
        var prefix = result.GetValue(Prefix);
        if (result.GetValue(Sqlite) is { } path)
        {
            return new BackendChoice(BackendKind.Sqlite, path, prefix);
        }

        if (result.GetValue(Redis) is { } redis)
        {
            return new BackendChoice(BackendKind.Redis, redis, prefix);
        }

        return result.GetValue(Postgres) is { } postgres ? new BackendChoice(BackendKind.Postgres, postgres, prefix) : null;
    }
}
