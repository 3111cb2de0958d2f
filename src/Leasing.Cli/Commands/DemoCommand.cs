using System.CommandLine;
using System.Globalization;
using Leasing.Cli.Backends;
using Leasing.Cli.Demo;
using Spectre.Console;

namespace Leasing.Cli.Commands;

/// <summary><c>leasing demo</c>: the library's main job in one command.</summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var workers = PositiveOption("--workers", "Workers leasing channels at once.", DemoSettings.DefaultWorkers, "N", 1, 256);
        var channels = PositiveOption("--channels", "Channels in the pool.", DemoSettings.DefaultChannels, "M", 1, 10_000);
        var seconds = PositiveOption("--seconds", "How long the workers run.", DemoSettings.DefaultSeconds, "S", 2, 3_600);
        var backend = new BackendOptions(required: false);
        var command = new Command(
            "demo",
            "Workers lease channels from a pool, some submissions time out and cool down, one worker is killed mid-lease, " +
            "a payment is sent by several workers at once; then a summary. Exits 1 if any channel was ever used twice at once.")
        {
            workers,
            channels,
            seconds,
        };
        backend.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var settings = new DemoSettings(result.GetValue(workers), result.GetValue(channels), TimeSpan.FromSeconds(result.GetValue(seconds)));
            var choice = backend.Read(result);
            await using var opened = await DemoBackend.OpenAsync(choice, cancellationToken).ConfigureAwait(false);
            var run = new DemoRun(opened.Backend, settings);
            console.Out.WriteLine($"Leasing demo: {settings.Workers} workers, {settings.Channels} channels, {settings.Duration.TotalSeconds:0} s on {opened.Backend.Choice}");
            var report = await RunWithProgressAsync(console, run, settings, cancellationToken).ConfigureAwait(false);
            DemoSummary.Write(console, report);
            return report.Violations.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static Option<int> PositiveOption(string name, string description, int defaultValue, string helpName, int min, int max)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = helpName };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !int.TryParse(result.Tokens[^1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                return; // not a number: the parser reports that already
            }

            var value = result.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                result.AddError($"Option {name} must be between {min} and {max} (got {value}).");
            }
        });
        return option;
    }

    private static async Task<DemoReport> RunWithProgressAsync(CliConsole console, DemoRun run, DemoSettings settings, CancellationToken cancellationToken)
    {
        var running = run.RunAsync(cancellationToken);
        if (console.Ansi.Profile.Capabilities.Interactive)
        {
            await console.Ansi.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("starting", maxValue: settings.Duration.TotalSeconds);
                    var started = TimeProvider.System.GetTimestamp();
                    while (!running.IsCompleted)
                    {
                        task.Value = Math.Min(TimeProvider.System.GetElapsedTime(started).TotalSeconds, settings.Duration.TotalSeconds);
                        task.Description = Markup.Escape(Status(run));
                        await Task.WhenAny(running, Task.Delay(100, CancellationToken.None)).ConfigureAwait(false);
                    }

                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
        }
        else
        {
            // Not a terminal (a pipe, a log, CI): one plain line a second instead of a live bar.
            var started = TimeProvider.System.GetTimestamp();
            while (await Task.WhenAny(running, Task.Delay(1_000, CancellationToken.None)).ConfigureAwait(false) != running)
            {
                await console.Out.WriteLineAsync($"  {TimeProvider.System.GetElapsedTime(started).TotalSeconds,4:0} s  {Status(run)}").ConfigureAwait(false);
            }
        }

        return await running.ConfigureAwait(false);
    }

    private static string Status(DemoRun run) =>
        string.Create(CultureInfo.InvariantCulture, $"{run.Pairs:N0} pairs, {run.Cooldowns} cooldowns, killed worker: {run.KillStage}");
}
