using Leasing.Cli.Backends;

namespace Leasing.Cli.Chaos;

/// <summary>The worker processes of a run: started, replaced after a kill, all stopped (or killed) at the end.</summary>
internal sealed class WorkerFleet(BackendKind kind, string connection, string run, long epoch, ChaosJournal journal, string log) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<WorkerProcess> _all = [];
    private readonly List<WorkerProcess> _live = [];
    private int _next;

    public int Started
    {
        get
        {
            lock (_gate)
            {
                return _all.Count;
            }
        }
    }

    public async Task StartAsync(int count, CancellationToken cancellationToken)
    {
        var started = Enumerable.Range(0, count).Select(_ => StartOne()).ToList();
        await WaitReadyAsync(started, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A live worker (not paused), at random.</summary>
    public WorkerProcess? PickLive()
    {
        lock (_gate)
        {
            var live = _live.Where(w => !w.Paused && !w.Exited).ToList();
            return live.Count == 0 ? null : live[Random.Shared.Next(live.Count)];
        }
    }

    /// <summary>A live worker (not paused) that holds at least one channel or lock now; null when none does.</summary>
    public WorkerProcess? PickHolder()
    {
        lock (_gate)
        {
            var holders = _live.Where(w => !w.Paused && !w.Exited && journal.OpenKeys(w.Id).Count > 0).ToList();
            return holders.Count == 0 ? null : holders[Random.Shared.Next(holders.Count)];
        }
    }

    /// <summary>Starts a worker in place of <paramref name="killed"/>.</summary>
    public async Task ReplaceAsync(WorkerProcess killed, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _live.Remove(killed);
        }

        await WaitReadyAsync([StartOne()], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks every worker to stop and waits for them (killing those that do not).</summary>
    public async Task StopAsync()
    {
        List<WorkerProcess> live;
        lock (_gate)
        {
            live = [.. _live];
        }

        await Task.WhenAll(live.Select(w => w.StopAsync(TimeSpan.FromSeconds(10)))).ConfigureAwait(false);
    }

    /// <summary>Kills whatever still runs and waits until every worker's lines are read.</summary>
    public async ValueTask DisposeAsync()
    {
        List<WorkerProcess> all;
        lock (_gate)
        {
            all = [.. _all];
        }

        foreach (var worker in all)
        {
            await worker.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Kills every worker at once, without waiting (the process is exiting).</summary>
    public void KillAll()
    {
        lock (_gate)
        {
            foreach (var worker in _all.Where(w => !w.Exited))
            {
                if (worker.Paused)
                {
                    worker.Resume();
                }

                worker.Kill();
            }
        }
    }

    private WorkerProcess StartOne()
    {
        lock (_gate)
        {
            var worker = WorkerProcess.Start(++_next, kind, connection, run, epoch, journal, log);
            _all.Add(worker);
            _live.Add(worker);
            return worker;
        }
    }

    private static async Task WaitReadyAsync(List<WorkerProcess> workers, CancellationToken cancellationToken)
    {
        await Task.WhenAll(workers.Select(w => w.Ready)).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (workers.FirstOrDefault(w => w.Exited) is { } dead)
        {
            throw new IOException($"A chaos worker exited at start (worker {dead.Id}); see its log.");
        }
    }
}
