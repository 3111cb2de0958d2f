using System.Diagnostics;

namespace Leasing.Cli.Chaos;

/// <summary>
/// Injects the coordinator's faults one after another, in a random order that gives every kind its
/// turn (a shuffled round), with a short random gap between two: kill -9 of a holder (and a
/// replacement), SIGSTOP of a holder past its lease then SIGCONT, and, when the run owns them, a
/// stall, a drop and delayed replies on the proxy and a restart of the server. Every fault goes into
/// the journal with when it started and ended and what it hit.
/// </summary>
internal sealed class FaultInjector(ChaosJournal journal, WorkerFleet fleet, FaultProxy? proxy, PrivateServer? server, bool pauseBlocksTheBackend)
{
    /// <summary>The kinds this run can inject from the coordinator (cancellations happen inside the workers).</summary>
    public IReadOnlyList<string> Kinds { get; } =
    [
        FaultKinds.Kill,
        FaultKinds.Pause,
        .. proxy is null ? Array.Empty<string>() : [FaultKinds.Stall, FaultKinds.Drop, FaultKinds.Delay],
        .. server is null ? Array.Empty<string>() : [FaultKinds.Restart],
    ];

    /// <summary>What the injector is doing (for live progress).</summary>
    public string Current { get; private set; } = "warming up";

    /// <param name="warmUp">How long the workers run undisturbed first.</param>
    /// <param name="gap">The mean pause between two faults: longer runs leave more fault-free time, in which a stranded channel stands out.</param>
    /// <param name="stop">Ends the injections (a paused worker is woken up first).</param>
    public async Task RunAsync(TimeSpan warmUp, TimeSpan gap, CancellationToken stop)
    {
        try
        {
            await Task.Delay(warmUp, stop).ConfigureAwait(false);
            while (!stop.IsCancellationRequested)
            {
                foreach (var kind in Kinds.OrderBy(_ => Random.Shared.Next()))
                {
                    Current = kind;
                    await InjectAsync(kind, stop).ConfigureAwait(false);
                    Current = "gap";
                    await Task.Delay(gap * (0.5 + Random.Shared.NextDouble()), stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>A worker that holds something now; waits a little for one when none does at this instant.</summary>
    private async Task<WorkerProcess?> PickHolderAsync(CancellationToken stop)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if (fleet.PickHolder() is { } victim)
            {
                return victim;
            }

            await Task.Delay(10, stop).ConfigureAwait(false);
        }

        return null;
    }

    private async Task InjectAsync(string kind, CancellationToken stop)
    {
        var lease = ChaosSettings.LeaseDuration;
        var timeout = ChaosSettings.CommandTimeout;
        switch (kind)
        {
            case FaultKinds.Kill:
            {
                var victim = await PickHolderAsync(stop).ConfigureAwait(false);
                if (victim is null)
                {
                    return;
                }

                var keys = journal.OpenKeys(victim.Id);
                victim.Kill();
                var at = Stopwatch.GetTimestamp(); // after: the process is surely dead from here on
                await victim.Drained.ConfigureAwait(false); // its last lines are in: what it held is known
                journal.Killed(victim.Id, at);
                journal.Fault(new ChaosFault(kind, at, at, victim.Id, keys));
                await fleet.ReplaceAsync(victim, stop).ConfigureAwait(false);
                break;
            }

            case FaultKinds.Pause:
            {
                // Paused in the middle of a use (right after the sink heard its token), so that it
                // wakes up as a zombie that writes; else any holder.
                var victim = fleet.PickLive();
                if (victim is null)
                {
                    return;
                }

                var pausing = victim.PauseAtNextBeginAsync();
                if (await Task.WhenAny(pausing, Task.Delay(TimeSpan.FromSeconds(1), stop)).ConfigureAwait(false) != pausing && victim.CancelPauseAtBegin())
                {
                    victim = await PickHolderAsync(stop).ConfigureAwait(false);
                    if (victim is null)
                    {
                        return;
                    }

                    victim.Pause();
                }

                var at = Stopwatch.GetTimestamp();
                var keys = journal.OpenKeys(victim.Id);
                try
                {
                    // Past its lease, so a successor gets the channel and the zombie writes after it.
                    await Task.Delay(lease + TimeSpan.FromMilliseconds(Random.Shared.Next(500, 1_000)), CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    victim.Resume();
                }

                journal.Fault(new ChaosFault(kind, at, Stopwatch.GetTimestamp(), victim.Id, keys, Outage: pauseBlocksTheBackend));
                break;
            }

            case FaultKinds.Stall:
            {
                var at = Stopwatch.GetTimestamp();
                var duration = timeout * (1.2 + (Random.Shared.NextDouble() * 0.6));
                proxy!.Stall(duration);
                await Task.Delay(duration, CancellationToken.None).ConfigureAwait(false);
                journal.Fault(new ChaosFault(kind, at, Stopwatch.GetTimestamp(), null, [], Outage: true));
                break;
            }

            case FaultKinds.Drop:
            {
                var at = Stopwatch.GetTimestamp();
                proxy!.DropAll();
                journal.Fault(new ChaosFault(kind, at, at, null, [], Outage: true));
                break;
            }

            case FaultKinds.Delay:
            {
                var at = Stopwatch.GetTimestamp();
                var delay = timeout + TimeSpan.FromMilliseconds(200);
                proxy!.DelayReplies(delay);
                await Task.Delay(TimeSpan.FromMilliseconds(1_500), CancellationToken.None).ConfigureAwait(false);
                proxy.DelayReplies(TimeSpan.Zero);
                await Task.Delay(delay, CancellationToken.None).ConfigureAwait(false); // the last delayed replies arrive
                journal.Fault(new ChaosFault(kind, at, Stopwatch.GetTimestamp(), null, [], Outage: true));
                break;
            }

            case FaultKinds.Restart:
            {
                var at = Stopwatch.GetTimestamp();
                await server!.RestartAsync(CancellationToken.None).ConfigureAwait(false);
                journal.Fault(new ChaosFault(kind, at, Stopwatch.GetTimestamp(), null, [], server.RestartLosesData, Outage: true));
                break;
            }
        }
    }
}
