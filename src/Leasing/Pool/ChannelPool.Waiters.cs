namespace Leasing;

// The waiter queue and its one poller: callers that found every channel busy wait here in arrival
// order; the poller keeps acquires in flight for them and hands each grant to the first one.
public sealed partial class ChannelPool
{
    private readonly TimeSpan _retryMin;
    private readonly TimeSpan _retryMax;
    private readonly int _maxInFlight;

    // Waiters by arrival time, then by queueing order (a fake clock stands still): a caller whose
    // first try was still in flight keeps its place. Guarded by _gate.
    private readonly PriorityQueue<PoolWaiter, (long ArrivedAt, long Queued)> _waiters = new();
    private long _queued;
    private Task? _poller;
    private int _firstTriesInFlight;
    private TaskCompletionSource _wake = NewSignal();

    // Releases signalled (in this process or by the backend) since the poller last looked: each starts one acquire.
    private int _releases;

    private void EndFirstTry()
    {
        Interlocked.Decrement(ref _firstTriesInFlight);
        lock (_gate)
        {
            _wake.TrySetResult();
        }
    }

    private async ValueTask<ChannelLease?> WaitAsync(long arrivedAt, bool triedFirst, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waiter = new PoolWaiter();

        // AcquireTimeout counts from the call: the first try (a round trip) is part of the wait.
        var left = timeout - _time.GetElapsedTime(arrivedAt);
        if (left < TimeSpan.Zero)
        {
            left = TimeSpan.Zero;
        }

        using var timer = _time.CreateTimer(static state => ((PoolWaiter)state!).TryTimeOut(), waiter, left, Timeout.InfiniteTimeSpan);
        using var registration = cancellationToken.UnsafeRegister(static (state, token) => ((PoolWaiter)state!).TryCancel(token), waiter);
        EnsureSubscribed();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            _waiters.Enqueue(waiter, (arrivedAt, ++_queued));
            if (triedFirst)
            {
                Interlocked.Decrement(ref _firstTriesInFlight);
                _wake.TrySetResult();
            }

            Log.PoolBusy(_logger, Name, _waiters.Count);
            if (_poller is null || _poller.IsCompleted)
            {
                _poller = Task.Run(PollAsync, CancellationToken.None);
            }
        }

        LeasingTelemetry.Waiting.Add(1, Tags);
        try
        {
            return await waiter.Task.ConfigureAwait(false);
        }
        finally
        {
            LeasingTelemetry.Waiting.Add(-1, Tags);
        }
    }

    /// <summary>
    /// The one poller of this pool in this process. It keeps up to <see cref="ChannelPoolOptions.MaxAcquiresInFlight"/>
    /// acquires in flight (never more than callers wait): one to start, one per release signalled (in this
    /// process or by the backend), one more after each grant (while grants keep coming, more channels may be free). Each
    /// grant goes to the first waiter still waiting (arrival order), or is released if none is. When every
    /// try finds the pool busy it sleeps a jittered, growing delay, cut short by a release signal, then probes once.
    /// </summary>
    private async Task PollAsync()
    {
        var running = new List<Task<PollTry>>();
        try
        {
            await PollLoopAsync(running).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A defect (or a throwing logger) must not strand the queue: the waiters get the error, and
            // grants still in flight go back instead of staying held, unrenewed, for a lease.
            lock (_gate)
            {
                _poller = null;
            }

            FailAll(e);
            foreach (var pending in running)
            {
                _ = GiveBackAsync(pending);
            }
        }
    }

    private async Task GiveBackAsync(Task<PollTry> pending)
    {
        if ((await pending.ConfigureAwait(false)).Lease is not { } lease)
        {
            return;
        }

        try
        {
            await _store.ReleaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.OrphanReleaseFailed(_logger, Name, e);
        }
    }

    private async Task PollLoopAsync(List<Task<PollTry>> running)
    {
        var delay = _retryMin;
        long? outageSince = null;
        var spawn = 1;
        Task? sleep = null;
        while (true)
        {
            Task wake;
            bool holdBack;
            var launch = 0;
            lock (_gate)
            {
                while (_waiters.TryPeek(out var head, out _) && head.IsCompleted)
                {
                    _waiters.Dequeue();
                }

                var stopping = _waiters.Count == 0 || _disposed.IsCancellationRequested;
                if (stopping && running.Count == 0)
                {
                    // The outage stays recorded until the backend answers again: a waiter that just timed
                    // out reads it to say "unavailable" rather than "exhausted".
                    _poller = null;
                    return;
                }

                if (_wake.Task.IsCompleted)
                {
                    _wake = NewSignal();
                    if (_releases > 0)
                    {
                        // A channel was released: try now, and start the busy delay over.
                        spawn += _releases;
                        _releases = 0;
                        delay = _retryMin;
                        sleep = null;
                    }
                }

                wake = _wake.Task;

                // Callers that arrived earlier may still be on their first try: they queue first.
                holdBack = Volatile.Read(ref _firstTriesInFlight) > 0;
                if (!holdBack && !stopping)
                {
                    var room = Math.Min(_waiters.Count, _maxInFlight) - running.Count;
                    launch = Math.Max(0, Math.Min(spawn, room));

                    // Signals beyond the room are kept (bounded): a try in flight may have been answered
                    // busy just before the release it was counted for.
                    spawn = Math.Min(spawn - launch, _maxInFlight);
                }
            }

            for (var i = 0; i < launch; i++)
            {
                running.Add(TryOnceAsync());
            }

            if (launch > 0)
            {
                sleep = null;
            }

            if (running.Count == 0)
            {
                try
                {
                    if (holdBack)
                    {
                        await wake.WaitAsync(_disposed.Token).ConfigureAwait(false);
                        continue;
                    }

                    // Every try found the pool busy (or failed): sleep, cut short by a release, then probe once.
                    sleep ??= Task.Delay(Backoff.Jitter(delay), _time, _disposed.Token);
                    await Task.WhenAny(wake, sleep).ConfigureAwait(false);
                    if (sleep.IsCanceled)
                    {
                        return;
                    }

                    if (sleep.IsCompleted)
                    {
                        sleep = null;
                        spawn = Math.Max(spawn, 1);
                        delay = Backoff.Grow(delay, _retryMax);
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            await Task.WhenAny(running.Count == 1 ? [running[0], wake] : [.. running, wake]).ConfigureAwait(false);
            for (var i = running.Count - 1; i >= 0; i--)
            {
                if (!running[i].IsCompleted)
                {
                    continue;
                }

                var done = running[i].Result;
                running.RemoveAt(i);
                if (done.Error is null)
                {
                    outageSince = null;
                    Volatile.Write(ref _outage, null);
                    if (done.Lease is not null)
                    {
                        await DeliverAsync(done.Lease, done.SentAt).ConfigureAwait(false);
                        spawn = Math.Min(spawn + 1, _maxInFlight);
                        delay = _retryMin;
                    }

                    continue;
                }

                // The outage is measured from its first failed answer (not from when that command was
                // sent): one command that stalls for the whole command timeout is one failure, retried.
                if (outageSince is null)
                {
                    outageSince = _time.GetTimestamp();
                    Log.PoolOutage(_logger, Name, done.Error);
                }

                Volatile.Write(ref _outage, done.Error);
                var lasted = _time.GetElapsedTime(outageSince.Value);

                // Only a try sent since the outage began proves it still lasts: tries that were already
                // stalled when it began are that one failure, not a new one.
                var fresh = _outageTolerance <= TimeSpan.Zero || done.SentAt >= outageSince.Value;
                if (!_disposed.IsCancellationRequested && fresh && lasted >= _outageTolerance)
                {
                    // Unreachable for OutageTolerance: every waiter gets the error now, not a late "exhausted".
                    FailAll(done.Error is LeaseStoreUnavailableException unavailable && _outageTolerance <= TimeSpan.Zero
                        ? unavailable
                        : new LeaseStoreUnavailableException(
                            $"Pool '{Name}': the lease store stayed unreachable for {lasted.TotalMilliseconds:0} ms (outage tolerance {_outageTolerance.TotalMilliseconds:0} ms); the last error is inside.",
                            done.Error));

                    // The failed waiters have their error; callers that come later start from a clean slate.
                    outageSince = null;
                    Volatile.Write(ref _outage, null);
                }

                // A blip: the waiters keep waiting; the next try follows the busy delay (a release cuts it short).
            }
        }
    }

    /// <summary>One acquire of the poller; never throws (the error is in the result). Sent without a caller's token.</summary>
    private async Task<PollTry> TryOnceAsync()
    {
        var sentAt = _time.GetTimestamp();
        try
        {
            // A grant that answered past its local deadline is given back and counts as a failed try.
            // Its release is no signal: the backend is slow, and the busy delay should grow, not restart.
            var lease = InTime(await AcquireLeastRecentlyUsedAsync().ConfigureAwait(false), sentAt, null);
            return new PollTry(lease, sentAt, null);
        }
        catch (Exception e)
        {
            return new PollTry(null, sentAt, e);
        }
    }

    private async ValueTask DeliverAsync(Lease lease, long sentAt)
    {
        var handle = CreateHandle(lease, sentAt, out var monitor);
        while (true)
        {
            PoolWaiter? head;
            lock (_gate)
            {
                _waiters.TryDequeue(out head, out _);
            }

            if (head is null)
            {
                break;
            }

            if (head.TryDeliver(handle))
            {
                return;
            }
        }

        // Everyone left while the lease was taken: give it back instead of dropping it.
        await monitor.StopAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _monitors.Remove(monitor);
        }

        try
        {
            await _store.ReleaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.OrphanReleaseFailed(_logger, Name, e);
        }
    }

    private void FailAll(Exception exception)
    {
        PoolWaiter[] waiters;
        lock (_gate)
        {
            waiters = [.. _waiters.UnorderedItems.Select(static item => item.Element)];
            _waiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.TryFail(exception);
        }
    }

    /// <summary>A channel was released (here, by the backend's announcement, or an abandoned grant given back): one more acquire for a waiter.</summary>
    private void Wake()
    {
        if (Volatile.Read(ref _poller) is not { IsCompleted: false })
        {
            // Nobody waits here; a poller that starts later tries the backend first anyway.
            return;
        }

        lock (_gate)
        {
            _releases++;
            _wake.TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly record struct PollTry(Lease? Lease, long SentAt, Exception? Error);
}
