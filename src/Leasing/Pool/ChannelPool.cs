using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasing;

/// <summary>
/// Leases one of N named channels, least-recently-used first. Each acquire is one atomic
/// pick-and-claim on the backend (no global mutex, no read-then-claim race); when every channel is
/// busy, callers in this process wait in FIFO order behind one poller.
/// </summary>
/// <remarks>
/// The channel list is written to the backend before the first acquire (and again when DI options
/// change), guarded by <see cref="ChannelPoolOptions.MembersVersion"/>. Disposing the pool stops the
/// renewals of its leases and fails its waiters; held leases then expire unless released.
/// </remarks>
public sealed class ChannelPool : IAsyncDisposable
{
    private readonly ILeaseStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeSpan _acquireTimeout;
    private readonly TimeSpan _retryMin;
    private readonly TimeSpan _retryMax;
    private readonly bool _autoRenew;
    private readonly TimeSpan _outageTolerance;
    private readonly int _maxInFlight;
    private readonly Lock _gate = new();
    // Waiters by arrival time, then by queueing order (a fake clock stands still): a caller whose
    // first try was still in flight keeps its place.
    private readonly PriorityQueue<PoolWaiter, (long ArrivedAt, long Queued)> _waiters = new();
    private long _queued;
    private readonly HashSet<LeaseMonitor> _monitors = [];
    private readonly CancellationTokenSource _disposed = new();
    private MemberList _members;
    private Task? _membersWritten;
    private Task? _poller;
    private int _firstTriesInFlight;
    private TaskCompletionSource _wake = NewSignal();

    // Releases signalled (in this process or by the backend) since the poller last looked: each starts one acquire.
    private int _releases;
    private Task<IAsyncDisposable?>? _subscription;
    private IDisposable? _optionsSubscription;
    private PoolCounts? _lastCounts;
    private long _lastCountsAt;
    private int _refreshingCounts;
    private long _subscribedAt;

    // The last error of an ongoing outage (null once the backend answers again): written by the poller
    // and by failed first tries, read by timed-out waiters and by TryAcquireAsync while waiters queue.
    private Exception? _outage;

    /// <summary>Creates a pool over <paramref name="store"/>. Nothing is written until the first acquire.</summary>
    /// <param name="store">The lease store (backend).</param>
    /// <param name="options">The options; validated now (and copied: later changes to the object have no effect).</param>
    /// <param name="timeProvider">The clock for waits, timeouts and renewals; default <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">The logger.</param>
    /// <exception cref="ArgumentException">The options break a rule; the message names the option and the rule.</exception>
    public ChannelPool(ILeaseStore store, ChannelPoolOptions options, TimeProvider? timeProvider = null, ILogger<ChannelPool>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ChannelPoolOptionsValidator.ThrowIfInvalid(options, nameof(options));
        _store = store;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Name = options.Name;
        _leaseDuration = options.LeaseDuration;
        _acquireTimeout = options.AcquireTimeout;
        DefaultCooldown = options.Cooldown;
        _autoRenew = options.AutoRenew;
        _retryMin = options.RetryMinDelay;
        _retryMax = options.RetryMaxDelay;
        _outageTolerance = options.OutageTolerance;
        _maxInFlight = options.MaxAcquiresInFlight;
        _members = new MemberList([.. options.Channels], options.MembersVersion);
        Tags = [new(LeasingTelemetry.PoolTag, Name), new(LeasingTelemetry.BackendTag, store.BackendName)];
        LeasingTelemetry.Track(this);
    }

    /// <summary>The pool name (the namespace of its keys).</summary>
    public string Name { get; }

    internal ILeaseStore Store => _store;

    internal TimeSpan DefaultCooldown { get; }

    internal KeyValuePair<string, object?>[] Tags { get; }

    /// <summary>
    /// Acquires the least-recently-used free channel, waiting up to <see cref="ChannelPoolOptions.AcquireTimeout"/>
    /// (FIFO behind other waiters of this pool in this process) while every channel is busy.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The leased channel.</returns>
    /// <exception cref="ChannelPoolExhaustedException">No channel became free within AcquireTimeout; says how many were held and cooling down.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    public async ValueTask<ChannelLease> AcquireAsync(CancellationToken cancellationToken = default)
    {
        using var activity = LeasingTelemetry.ActivitySource.StartActivity("leasing.pool.acquire");
        activity?.SetTag(LeasingTelemetry.PoolTag, Name);
        var started = _time.GetTimestamp();
        var lease = await AcquireOrWaitAsync(_acquireTimeout, cancellationToken).ConfigureAwait(false);
        if (lease is not null)
        {
            activity?.SetTag("leasing.fencing_token", lease.FencingToken);
            return lease;
        }

        var waited = _time.GetElapsedTime(started);
        if (Volatile.Read(ref _outage) is { } outage)
        {
            // The timeout ran out while the backend was unreachable: that is the cause, not busy channels.
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "unavailable");
            throw new LeaseStoreUnavailableException(
                $"Pool '{Name}': no channel within AcquireTimeout ({_acquireTimeout.TotalMilliseconds:0} ms) while the lease store was unreachable; the last error is inside.",
                outage);
        }

        LeasingTelemetry.Exhausted.Add(1, Tags);
        activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "exhausted");
        var status = await ReadStatusForExhaustedAsync(cancellationToken).ConfigureAwait(false);
        throw new ChannelPoolExhaustedException(
            Name,
            waited,
            status.Count(s => s.Status == LeaseStatus.Held),
            status.Count(s => s.Status == LeaseStatus.CoolingDown),
            status.Count);
    }

    /// <summary>Tries once to acquire the least-recently-used free channel, without waiting.</summary>
    /// <param name="cancellationToken">Cancels the call; a grant that lands after the cancellation is released at once.</param>
    /// <returns>The leased channel, or <see langword="null"/> when every channel is held or cooling down, or when callers of <see cref="AcquireAsync"/> in this process already wait (it does not overtake them).</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached (also while this process's waiters ride an outage).</exception>
    /// <exception cref="PoolMembersOutdatedException">The backend kept refusing this pool's member list after it was written again (another writer keeps replacing it).</exception>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    public ValueTask<ChannelLease?> TryAcquireAsync(CancellationToken cancellationToken = default) =>
        AcquireOrWaitAsync(TimeSpan.Zero, cancellationToken);

    /// <summary>Tries once to acquire one named channel (sticky work), without waiting.</summary>
    /// <param name="channelId">The channel id.</param>
    /// <param name="cancellationToken">Cancels the call; a grant that lands after the cancellation is released at once.</param>
    /// <returns>The leased channel, or <see langword="null"/> when it is busy or not a channel of this pool.</returns>
    /// <exception cref="ArgumentException">The id is not a valid key.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="PoolMembersOutdatedException">The backend kept refusing this pool's member list after it was written again.</exception>
    public async ValueTask<ChannelLease?> TryAcquireChannelAsync(string channelId, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(channelId, nameof(channelId));
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();
        var sentAt = _time.GetTimestamp();
        var lease = InTime(await AbandonedGrants.AwaitAsync(AcquireMemberAsync(channelId), _store, _logger, Wake, cancellationToken).ConfigureAwait(false), sentAt, Wake);
        if (lease is null)
        {
            return null;
        }

        LeasingTelemetry.Acquisitions.Add(1, Tags);
        return Track(lease, sentAt);
    }

    /// <summary>Reads the state of every channel in one round trip.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One status per channel.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public async ValueTask<IReadOnlyList<ChannelStatus>> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMembersAsync(cancellationToken).ConfigureAwait(false);
        var states = await _store.InspectPoolAsync(Name, cancellationToken).ConfigureAwait(false);
        if (states.Count == 0)
        {
            // The backend does not know the pool (a restart without persistence lost it): write the
            // member list again before the next acquire. The version rule keeps a newer list.
            ForgetMembersWritten();
        }

        var result = new ChannelStatus[states.Count];
        int held = 0, cooling = 0;
        for (var i = 0; i < states.Count; i++)
        {
            var s = states[i];
            result[i] = new ChannelStatus(s.Key, s.Status, s.ExpiresAt, s.LastAcquiredAt);
            held += s.Status == LeaseStatus.Held ? 1 : 0;
            cooling += s.Status == LeaseStatus.CoolingDown ? 1 : 0;
        }

        Volatile.Write(ref _lastCounts, new PoolCounts(held, states.Count - held - cooling, cooling));
        Volatile.Write(ref _lastCountsAt, _time.GetTimestamp());
        return result;
    }

    /// <summary>Stops the renewals of this pool's leases and fails its waiters with <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    /// <returns>A task that completes when renewals have stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        LeasingTelemetry.Untrack(this);
        _optionsSubscription?.Dispose();
        LeaseMonitor[] monitors;
        PoolWaiter[] waiters;
        lock (_gate)
        {
            monitors = [.. _monitors];
            _monitors.Clear();
            waiters = [.. _waiters.UnorderedItems.Select(static item => item.Element)];
            _waiters.Clear();
        }

        foreach (var waiter in waiters)
        {
            waiter.TryFail(new ObjectDisposedException(nameof(ChannelPool), $"Channel pool '{Name}' was disposed while waiting."));
        }

        foreach (var monitor in monitors)
        {
            await monitor.StopRenewingAsync().ConfigureAwait(false);
        }

        if (_poller is { } poller)
        {
            await poller.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_subscription is { IsCompletedSuccessfully: true, Result: { } subscription })
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Applies a new channel list (DI options change). Written before the next acquire.</summary>
    internal void UpdateMembers(IList<string> channels, long version)
    {
        lock (_gate)
        {
            _members = new MemberList([.. channels], version);
            _membersWritten = null;
        }
    }

    private void ForgetMembersWritten()
    {
        lock (_gate)
        {
            if (_members.Channels.Length > 0 && _membersWritten is { IsCompleted: true })
            {
                _membersWritten = null;
            }
        }
    }

    internal void WatchOptions(IDisposable? subscription) => _optionsSubscription = subscription;

    /// <summary>The counts of the last status read, for the gauges; refreshed in the background at most every 5 s, never per scrape.</summary>
    internal PoolCounts? ObserveCounts()
    {
        var stale = _lastCounts is null || _time.GetElapsedTime(Volatile.Read(ref _lastCountsAt)) > TimeSpan.FromSeconds(5);
        if (stale && !_disposed.IsCancellationRequested && Interlocked.Exchange(ref _refreshingCounts, 1) == 0)
        {
            Volatile.Write(ref _lastCountsAt, _time.GetTimestamp());
            _ = Task.Run(async () =>
            {
                try
                {
                    await GetStatusAsync(_disposed.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is LeaseStoreUnavailableException or OperationCanceledException or ObjectDisposedException)
                {
                    // The gauges keep the last counts; the outage shows in the other instruments and logs.
                }
                finally
                {
                    Volatile.Write(ref _refreshingCounts, 0);
                }
            });
        }

        return Volatile.Read(ref _lastCounts);
    }

    /// <summary>
    /// Releases a held channel. While callers of this process wait in the queue, the release and the next
    /// acquire are one call (<see cref="ILeaseStore.ReleaseAndAcquireLeastRecentlyUsedAsync"/>: one round trip
    /// on backends that support it), and the channel it takes goes to the first waiter; otherwise a plain release.
    /// </summary>
    /// <returns>Whether the lease was released, and whether a channel was handed on to a waiter.</returns>
    internal async ValueTask<(bool Released, bool HandedOn)> ReleaseAsync(Lease lease, CancellationToken cancellationToken)
    {
        if (!ShouldHandOn())
        {
            return (await _store.ReleaseAsync(lease, cancellationToken).ConfigureAwait(false), false);
        }

        // Sent without the caller's token: a channel taken for the next waiter must reach it (or go back).
        cancellationToken.ThrowIfCancellationRequested();
        var sentAt = _time.GetTimestamp();
        var version = Volatile.Read(ref _members).Version;
        var result = await _store.ReleaseAndAcquireLeastRecentlyUsedAsync(lease, _leaseDuration, version, CancellationToken.None).ConfigureAwait(false);
        if (result.MembersOutdated)
        {
            Log.MembersOutdated(_logger, Name, version);
            ForgetMembersWritten();
        }

        Lease? next;
        try
        {
            next = InTime(result.Acquired, sentAt, Wake);
        }
        catch (LeaseStoreUnavailableException)
        {
            // The claim answered past its local deadline: it is being given back (and the poller woken). The
            // release itself happened, so the caller's release succeeded.
            return (result.Released, false);
        }

        if (next is null)
        {
            return (result.Released, false);
        }

        if (!string.Equals(next.Key, lease.Key, StringComparison.Ordinal))
        {
            // Another member was claimed, so the released one is free: the next waiter here may take it.
            Wake();
        }

        await DeliverAsync(next, sentAt).ConfigureAwait(false);
        return (result.Released, true);
    }

    internal void OnReleased(ChannelLease lease, bool released, TimeSpan? cooldown, bool handedOn)
    {
        LeasingTelemetry.HoldTime.Record(_time.GetElapsedTime(lease.AcquiredAt).TotalSeconds, Tags);
        if (released && cooldown is not null)
        {
            LeasingTelemetry.Cooldowns.Add(1, Tags);
        }

        lock (_gate)
        {
            _monitors.Remove(lease.Monitor);
        }

        if (!handedOn)
        {
            Wake();
        }
    }

    // A release hands its channel on only while the poller serves queued callers, and no caller that came
    // earlier is still on its first try (it must queue first: grants go in arrival order).
    private bool ShouldHandOn()
    {
        if (Volatile.Read(ref _poller) is not { IsCompleted: false } || Volatile.Read(ref _membersWritten) is not { IsCompletedSuccessfully: true })
        {
            return false;
        }

        lock (_gate)
        {
            return !_disposed.IsCancellationRequested
                && Volatile.Read(ref _firstTriesInFlight) == 0
                && _waiters.TryPeek(out var head, out _)
                && !head.IsCompleted;
        }
    }

    internal void OnReleaseAtDisposeFailed(ChannelLease lease, Exception exception)
    {
        Log.ReleaseOnDisposeFailed(_logger, Name, lease.ChannelId, exception);
        lock (_gate)
        {
            _monitors.Remove(lease.Monitor);
        }
    }

    private async ValueTask<ChannelLease?> AcquireOrWaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();
        var called = _time.GetTimestamp();

        // Fast path, unless others already wait: FIFO means a newcomer does not overtake them.
        // The poller runs exactly while waiters are queued, so reading it needs no lock.
        // A caller that may wait counts its first try (a round trip on a server) as in flight: if it
        // fails, the caller queues by its arrival time, and the poller holds back until every such
        // try has queued, so callers that arrive together are served in arrival order.
        var waits = timeout > TimeSpan.Zero;
        var triedFirst = false;
        if (Volatile.Read(ref _poller) is not { IsCompleted: false })
        {
            triedFirst = waits;
            if (waits)
            {
                Interlocked.Increment(ref _firstTriesInFlight);
            }

            var sentAt = _time.GetTimestamp();
            Lease? lease = null;
            try
            {
                // A caller that may wait waits no longer than its AcquireTimeout for this reply either.
                var limit = waits ? timeout : Timeout.InfiniteTimeSpan;
                lease = InTime(await AbandonedGrants.AwaitAsync(AcquireLeastRecentlyUsedAsync(), _store, _logger, Wake, limit, _time, cancellationToken).ConfigureAwait(false), sentAt, Wake);
                Volatile.Write(ref _outage, null);
            }
            catch (Exception e) when (waits && e is not OperationCanceledException and not ObjectDisposedException)
            {
                // A blip: this caller queues (by its arrival time) and the poller rides the outage
                // through, failing waiters only when it lasts OutageTolerance.
                Volatile.Write(ref _outage, e);
                Log.PoolOutage(_logger, Name, e);
            }
            catch when (waits)
            {
                EndFirstTry();
                throw;
            }

            if (lease is not null)
            {
                if (waits)
                {
                    EndFirstTry();
                }

                return Acquired(Track(lease, sentAt), called);
            }
        }

        if (timeout <= TimeSpan.Zero)
        {
            if (Volatile.Read(ref _outage) is { } outage && Volatile.Read(ref _poller) is { IsCompleted: false })
            {
                // The waiters of this process are riding an outage: say so rather than a silent "busy".
                throw new LeaseStoreUnavailableException($"Pool '{Name}': the lease store is unreachable (this process's waiters are riding the outage); the last error is inside.", outage);
            }

            return null;
        }

        // The acquire wait runs from the call, so it includes the busy first try (a round trip).
        LeasingTelemetry.Waits.Add(1, Tags);
        var delivered = await WaitAsync(called, triedFirst, timeout, cancellationToken).ConfigureAwait(false);
        return delivered is null ? null : Acquired(delivered, called);
    }

    private ChannelLease Acquired(ChannelLease lease, long since)
    {
        LeasingTelemetry.Acquisitions.Add(1, Tags);
        LeasingTelemetry.AcquireWait.Record(_time.GetElapsedTime(since).TotalSeconds, Tags);
        return lease;
    }

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
                    sleep ??= Task.Delay(Jitter(delay), _time, _disposed.Token);
                    await Task.WhenAny(wake, sleep).ConfigureAwait(false);
                    if (sleep.IsCanceled)
                    {
                        return;
                    }

                    if (sleep.IsCompleted)
                    {
                        sleep = null;
                        spawn = Math.Max(spawn, 1);
                        delay = delay * 2 > _retryMax ? _retryMax : delay * 2;
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

    private ChannelLease Track(Lease lease, long sentAt) => CreateHandle(lease, sentAt, out _);

    private ChannelLease CreateHandle(Lease lease, long sentAt, out LeaseMonitor monitor)
    {
        // The handle holds the monitor; the monitor holds the handle only weakly.
        monitor = LeaseMonitor.Start(new StoreRenewer(_store), lease, sentAt, owner: null, new LeaseMonitorSettings(_leaseDuration, _autoRenew, _time, _logger, Tags));
        var handle = new ChannelLease(this, monitor, _time.GetTimestamp());
        monitor.AttachOwner(handle);
        lock (_gate)
        {
            _monitors.Add(monitor);
        }

        return handle;
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

    private ValueTask EnsureMembersAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _membersWritten) is { IsCompletedSuccessfully: true })
        {
            return ValueTask.CompletedTask;
        }

        Task? written;
        lock (_gate)
        {
            written = _membersWritten;
            if (written is null || written.IsFaulted || written.IsCanceled)
            {
                // Started on the thread pool: the store call (synchronous in memory) never runs under the gate.
                var members = _members;
                written = _membersWritten = Task.Run(() => WriteMembersAsync(members), CancellationToken.None);
            }
        }

        return written.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(written.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// One LRU acquire with the member-list check: when the backend lost the pool or holds an older
    /// list (a restart without persistence, a rolling deploy), the list is written again and the
    /// acquire retried, so every acquire path recovers by itself. Sent without a caller's token.
    /// </summary>
    private ValueTask<Lease?> AcquireLeastRecentlyUsedAsync()
    {
        if (Volatile.Read(ref _membersWritten) is { IsCompletedSuccessfully: true })
        {
            var pending = _store.TryAcquireLeastRecentlyUsedAsync(Name, _leaseDuration, Volatile.Read(ref _members).Version, CancellationToken.None);
            if (pending.IsCompletedSuccessfully)
            {
                return pending;
            }

            return AcquireSlowAsync(null, pending);
        }

        return AcquireSlowAsync(null, null);
    }

    private ValueTask<Lease?> AcquireMemberAsync(string channelId) => AcquireSlowAsync(channelId, null);

    private async ValueTask<Lease?> AcquireSlowAsync(string? channelId, ValueTask<Lease?>? first)
    {
        for (var attempt = 0; ; attempt++)
        {
            var version = Volatile.Read(ref _members).Version;
            try
            {
                if (first is { } sent && attempt == 0)
                {
                    return await sent.ConfigureAwait(false);
                }

                await EnsureMembersAsync(_disposed.Token).ConfigureAwait(false);
                return channelId is null
                    ? await _store.TryAcquireLeastRecentlyUsedAsync(Name, _leaseDuration, version, CancellationToken.None).ConfigureAwait(false)
                    : await _store.TryAcquirePoolMemberAsync(Name, channelId, _leaseDuration, version, CancellationToken.None).ConfigureAwait(false);
            }
            catch (PoolMembersOutdatedException) when (attempt < 3)
            {
                Log.MembersOutdated(_logger, Name, version);
                ForgetMembersWritten();
            }
        }
    }

    /// <summary>The status for an exhausted caller's exception, within a bounded time (the backend may be stalling).</summary>
    private async ValueTask<IReadOnlyList<ChannelStatus>> ReadStatusForExhaustedAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(_outageTolerance > TimeSpan.FromSeconds(1) ? _outageTolerance : TimeSpan.FromSeconds(1));
        try
        {
            return await GetStatusAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new LeaseStoreUnavailableException($"Pool '{Name}': no channel within AcquireTimeout, and the status read did not answer in time.", e);
        }
    }

    private async Task WriteMembersAsync(MemberList members)
    {
        try
        {
            await _store.SetPoolMembersAsync(Name, members.Channels, members.Version, _disposed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.MembersWriteFailed(_logger, Name, members.Version, e);
            throw;
        }
    }

    private void EnsureSubscribed()
    {
        if (_store is not ILeaseReleaseSource source)
        {
            return;
        }

        lock (_gate)
        {
            // A failed subscription is retried (at most once a second): waiters poll meanwhile.
            var failed = _subscription is { IsFaulted: true } or { IsCanceled: true } or { IsCompletedSuccessfully: true, Result: null };
            if (_subscription is null || (failed && _time.GetElapsedTime(_subscribedAt) >= TimeSpan.FromSeconds(1)))
            {
                _subscribedAt = _time.GetTimestamp();
                _subscription = SubscribeAsync(source);
            }
        }
    }

    private async Task<IAsyncDisposable?> SubscribeAsync(ILeaseReleaseSource source)
    {
        try
        {
            return await source.SubscribeToReleasesAsync(Name, Wake, _disposed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.SubscribeFailed(_logger, Name, e);
            return null;
        }
    }

    /// <summary>The grant, unless it answered past its local deadline (then it is given back and this throws).</summary>
    private Lease? InTime(Lease? lease, long sentAt, Action? released) =>
        AbandonedGrants.InTime(lease, sentAt, _leaseDuration, _time, _store, _logger, released);

    private static TimeSpan Jitter(TimeSpan delay) =>
        TimeSpan.FromTicks((long)(delay.Ticks * (0.5 + (Random.Shared.NextDouble() * 0.5))));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record MemberList(string[] Channels, long Version);

    private readonly record struct PollTry(Lease? Lease, long SentAt, Exception? Error);
}
