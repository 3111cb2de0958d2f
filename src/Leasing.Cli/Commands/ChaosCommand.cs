using System.CommandLine;
using System.Globalization;
using Leasing.Cli.Backends;
using Leasing.Cli.Chaos;

namespace Leasing.Cli.Commands;

/// <summary><c>leasing chaos</c>: the library's promises under faults, as figures; and the hidden <c>chaos-worker</c> it runs as its worker processes.</summary>
internal static class ChaosCommand
{
    public static Command Create(CliConsole console)
    {
        var redis = BackendOption("--redis", "CONN", "A Redis server (StackExchange.Redis format). Without CONN: a private redis-server on a free loopback port, which the run also restarts.");
        var postgres = BackendOption("--postgres", "CONN", "A PostgreSQL server (connection string). Without CONN: a private cluster on a free loopback port, which the run also restarts (immediate mode).");
        var sqlite = BackendOption("--sqlite", "PATH", "A SQLite file. Without PATH: a temp file.");
        var processes = RangeOption("--processes", "Worker processes.", ChaosSettings.DefaultProcesses, "N", 1, 64);
        var seconds = RangeOption("--seconds", "How long the run lasts.", ChaosSettings.DefaultSeconds, "S", 5, 86_400);
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file (keys: see the README).", HelpName = "PATH" };
        var command = new Command(
            "chaos",
            "Worker processes cycle a channel pool, take locks and send idempotent payments while the run kills and pauses holders, " +
            "cancels acquires, stalls, drops and delays their connections and restarts the server; then it checks the journal. Exits 1 on any violation.")
        {
            redis,
            postgres,
            sqlite,
            processes,
            seconds,
            json,
        };
        var backends = new[] { (Option: redis, Kind: BackendKind.Redis), (Option: postgres, Kind: BackendKind.Postgres), (Option: sqlite, Kind: BackendKind.Sqlite) };
        command.Validators.Add(result =>
        {
            var given = backends.Where(b => result.GetResult(b.Option) is not null).Select(b => b.Option.Name).ToArray();
            if (given.Length != 1)
            {
                result.AddError(given.Length == 0
                    ? "Name the backend: --redis [CONN], --postgres [CONN] or --sqlite [PATH]."
                    : $"Options {string.Join(", ", given)} cannot be combined: name one backend.");
            }
        });
        command.SetAction(async (result, cancellationToken) =>
        {
            var (option, kind) = backends.First(b => result.GetResult(b.Option) is not null);
            var connection = result.GetValue(option) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value : null;
            var settings = new ChaosSettings(kind, result.GetValue(processes), TimeSpan.FromSeconds(result.GetValue(seconds)));
            var run = new ChaosRun(settings, connection, console.Error);
            run.Started += description => console.Out.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Leasing chaos: {settings.Processes} processes x ({ChaosSettings.PoolTasks} pool + {ChaosSettings.LockTasks} lock + {ChaosSettings.PaymentTasks} payment tasks), " +
                $"{ChaosSettings.ChannelsFor(settings.Backend)} channels, {ChaosSettings.LockKeys} lock keys, lease {ChaosSettings.LeaseDuration.TotalSeconds:0.#} s, {settings.Duration.TotalSeconds:0} s on {description}"));
            var running = run.RunAsync(cancellationToken);
            var began = TimeProvider.System.GetTimestamp();
            while (await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false) != running)
            {
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {TimeProvider.System.GetElapsedTime(began).TotalSeconds,4:0} s  {run.Acquisitions:N0} acquisitions, injecting: {run.Stage}")).ConfigureAwait(false);
            }

            var report = await running.ConfigureAwait(false);
            ChaosSummary.Write(console, report);
            if (result.GetValue(json) is { } path)
            {
                await ChaosSummary.WriteJsonAsync(path, report, cancellationToken).ConfigureAwait(false);
            }

            return report.Violations == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>The hidden command a chaos run starts its worker processes with; the connection comes in the environment.</summary>
    public static Command CreateWorker()
    {
        var backend = new Option<BackendKind>("--backend") { Required = true };
        var run = new Option<string>("--run") { Required = true };
        var epoch = new Option<long>("--epoch") { Required = true };
        var command = new Command("chaos-worker", "A worker process of `leasing chaos` (not for direct use).") { backend, run, epoch };
        command.Hidden = true;
        command.SetAction((result, cancellationToken) =>
        {
            var connection = Environment.GetEnvironmentVariable(WorkerProcess.ConnectionVariable)
                ?? throw new ArgumentException($"chaos-worker needs {WorkerProcess.ConnectionVariable}: it is started by `leasing chaos`.");
            return ChaosWorker.RunAsync(result.GetValue(backend), connection, result.GetValue(run)!, result.GetValue(epoch), cancellationToken);
        });
        return command;
    }

    private static Option<string?> BackendOption(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.ZeroOrOne };

    private static Option<int> RangeOption(string name, string description, int defaultValue, string helpName, int min, int max)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = helpName };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !int.TryParse(result.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                return;
            }

            var value = result.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                result.AddError($"Option {name} must be between {min} and {max} (got {value}).");
            }
        });
        return option;
    }
}
