using System.CommandLine;
using System.Globalization;
using Leasing.Cli.Backends;
using Spectre.Console;

namespace Leasing.Cli.Commands;

/// <summary><c>leasing pool status|members|release</c>: look at and operate a pool of a real deployment.</summary>
internal static class PoolCommand
{
    public static Command Create(CliConsole console) => new("pool", "Inspect and operate a channel pool: status, members, force-release.")
    {
        Status(console),
        Members(console),
        Release(console),
    };

    private static Argument<string> PoolArgument() => new("pool") { Description = "The pool name (ChannelPoolOptions.Name)." };

    private static Command Status(CliConsole console)
    {
        var pool = PoolArgument();
        var json = CommandSupport.JsonOption();
        var backend = new BackendOptions(required: true);
        var command = new Command("status", "Show every channel of a pool: held, free or cooling down, expiry, last acquisition, fencing token.") { pool, json };
        backend.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandSupport.WithBackendAsync(result, backend, async opened =>
        {
            var name = result.GetValue(pool)!;
            var states = await opened.Leases.InspectPoolAsync(name, cancellationToken).ConfigureAwait(false);
            if (states.Count == 0)
            {
                console.WriteError($"pool '{name}' has no channels on {opened.Choice.Where()}; is the name right?");
                return ExitCodes.Failed;
            }

            var held = states.Count(s => s.Status == LeaseStatus.Held);
            var cooling = states.Count(s => s.Status == LeaseStatus.CoolingDown);
            if (result.GetValue(json))
            {
                CommandSupport.WriteJson(console, new
                {
                    Pool = name,
                    Backend = opened.Choice.Kind.ToString().ToLowerInvariant(),
                    Channels = states.Count,
                    Held = held,
                    CoolingDown = cooling,
                    Free = states.Count - held - cooling,
                    Members = states.Select(s => new { Channel = s.Key, s.Status, s.ExpiresAt, s.LastAcquiredAt, s.FencingToken }),
                });
                return ExitCodes.Ok;
            }

            // Columns only, no frame, two spaces between them, short status words and times without the year: a row with
            // a 16-digit fencing token and a channel id of up to 21 characters fits 80 columns, one line per row for grep.
            var table = new Table().Border(TableBorder.None).ShowHeaders()
                .Title(Markup.Escape($"pool {name} on {opened.Choice}"))
                .Caption(string.Create(CultureInfo.InvariantCulture, $"{states.Count} channels: {held} held, {cooling} cooling down, {states.Count - held - cooling} free; times UTC"));
            table.AddColumn(Column("channel")).AddColumn(Column("status"))
                .AddColumn(Column("expires")).AddColumn(Column("acquired"))
                .AddColumn(Column("fencing token").RightAligned().PadRight(0));
            foreach (var s in states.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                table.AddRow(
                    CommandSupport.Cell(s.Key),
                    new Text(StatusWord(s.Status), s.Status switch
                    {
                        LeaseStatus.Held => new Style(Color.Yellow),
                        LeaseStatus.CoolingDown => new Style(Color.Blue),
                        _ => new Style(Color.Green),
                    }),
                    CommandSupport.Cell(s.Status == LeaseStatus.Free ? null : ShortTime(s.ExpiresAt)),
                    CommandSupport.Cell(ShortTime(s.LastAcquiredAt)),
                    CommandSupport.Cell(s.FencingToken == 0 ? null : s.FencingToken.ToString(CultureInfo.InvariantCulture)));
            }

            console.Ansi.Write(table);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static string Sample(IReadOnlyList<string> members) =>
        string.Join(", ", members.Order(StringComparer.Ordinal).Take(5)) + (members.Count > 5 ? $", ... ({members.Count} in all)" : string.Empty);

    private static string StatusWord(LeaseStatus status) => status switch
    {
        LeaseStatus.Held => "held",
        LeaseStatus.CoolingDown => "cooling",
        _ => "free",
    };

    private static TableColumn Column(string header) => new TableColumn(header).NoWrap().PadLeft(0).PadRight(2);

    private static string ShortTime(DateTimeOffset? time) => time?.UtcDateTime.ToString("MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";

    private static Command Members(CliConsole console)
    {
        var pool = PoolArgument();
        var json = CommandSupport.JsonOption();
        var backend = new BackendOptions(required: true);
        var command = new Command("members", "List the channel ids of a pool.") { pool, json };
        backend.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandSupport.WithBackendAsync(result, backend, async opened =>
        {
            var name = result.GetValue(pool)!;
            var members = (await opened.Leases.GetPoolMembersAsync(name, cancellationToken).ConfigureAwait(false)).Order(StringComparer.Ordinal).ToArray();
            if (result.GetValue(json))
            {
                CommandSupport.WriteJson(console, new { Pool = name, Members = members });
                return ExitCodes.Ok;
            }

            if (members.Length == 0)
            {
                console.WriteError($"pool '{name}' has no members on {opened.Choice.Where()}; is the name right?");
                return ExitCodes.Failed;
            }

            foreach (var member in members)
            {
                console.Out.WriteLine(member);
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command Release(CliConsole console)
    {
        var pool = PoolArgument();
        var channel = new Argument<string>("channel") { Description = "The channel id to free." };
        var json = CommandSupport.JsonOption();
        var yes = CommandSupport.YesOption();
        var backend = new BackendOptions(required: true);
        var command = new Command(
            "release",
            "Free a channel whoever holds it (ILeaseStore.ForceReleaseAsync), for a holder that is stuck. Its fencing token still grows on the next acquire, " +
            "so downstream systems reject the old holder. A channel that is not a member of the pool is refused (exit 1, nothing changed). " +
            "Asks for confirmation unless --yes.")
        {
            pool,
            channel,
            json,
            yes,
        };
        backend.AddTo(command);
        command.SetAction((result, cancellationToken) => CommandSupport.WithBackendAsync(result, backend, async opened =>
        {
            var name = result.GetValue(pool)!;
            var id = result.GetValue(channel)!;
            LeaseArguments.ThrowIfInvalidKey(name, "pool");
            LeaseArguments.ThrowIfInvalidKey(id, "channel");
            var members = await opened.Leases.GetPoolMembersAsync(name, cancellationToken).ConfigureAwait(false);
            if (!members.Contains(id, StringComparer.Ordinal))
            {
                console.WriteError(members.Count == 0
                    ? $"pool '{name}' has no members on {opened.Choice.Where()}; is the name right? Nothing changed."
                    : $"channel '{id}' is not a member of pool '{name}' on {opened.Choice}; nothing changed. Members: {Sample(members)}.");
                return ExitCodes.Failed;
            }

            var stop = await CommandSupport.ConfirmAsync(
                console,
                result.GetValue(yes),
                "force-release a channel",
                $"Force-release channel '{id}' of pool '{name}' on {opened.Choice}? Its holder loses the lease.",
                cancellationToken).ConfigureAwait(false);
            if (stop is { } code)
            {
                return code;
            }

            var released = await opened.Leases.ForceReleaseAsync(id, name, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                CommandSupport.WriteJson(console, new { Pool = name, Channel = id, Released = released });
            }
            else
            {
                console.Out.WriteLine(released
                    ? $"released channel '{id}' of pool '{name}'."
                    : $"channel '{id}' of pool '{name}' was not held; nothing changed.");
            }

            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
