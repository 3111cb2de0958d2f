using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Leasing;

/// <summary>What one renewal check found.</summary>
internal enum LeaseCheck
{
    /// <summary>The store extended the lease; the local deadline moved forward.</summary>
    Renewed,

    /// <summary>A renewal confirmed recently enough that no round trip was needed.</summary>
    Held,

    /// <summary>The store says the lease is no longer ours.</summary>
    Lost,

    /// <summary>The store could not be asked (outage); the local deadline did not move.</summary>
    Unknown,
}

/// <summary>
/// Keeps one lease alive and says when it is lost. Every handle (ChannelLease, LockHandle) owns one.
/// </summary>
/// <remarks>
/// The local deadline is the moment the acquire or the last confirmed renew was sent, plus ttl,
/// minus a safety margin (ttl/10), on the monotonic clock: <see cref="LeaseLost"/> is cancelled when
/// a renew returns null or when that deadline passes unconfirmed, so a holder cut off from the
/// backend assumes the worst. A transient error never moves the deadline. The heartbeat holds its
/// handle by weak reference: a handle dropped without dispose stops renewing and its lease expires.
/// Timing comes from the clock's shared <see cref="RenewalScheduler"/> (no timer per lease), and the
/// token source behind <see cref="LeaseLost"/> is created only when someone asks for the token, so a
/// short hold allocates nothing beyond the monitor itself.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token sources carry no timers; handles keep exposing LeaseLost after release, so they are never disposed.")]
internal sealed class LeaseMonitor
{
    private const int Running = 0;
    private const int RenewingStopped = 1;
    private const int Stopped = 2;

    private readonly Lock _gate = new();
    private readonly ILeaseRenewer _renewer;
    private readonly TimeSpan _ttl;
    private readonly long _deadlineSpan;
    private readonly long _intervalSpan;
    private readonly long _retrySpan;
    private readonly bool _autoRenew;
    private readonly TimeProvider _time;
    private readonly RenewalScheduler _scheduler;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?>[] _tags;
    private WeakGCHandle<object> _owner;
    private CancellationTokenSource? _lost;
    private CancellationTokenSource? _renewing;
    private Task _renewal = Task.CompletedTask;
    private Lease _lease;
    private long _deadline;
    private long _lastConfirmed;
    private long _nextRenewAt;
    private int _lostFlag;
    private int _state;

    /// <summary>Where this monitor sits in its scheduler's heap; -1 when not scheduled (scheduler use only).</summary>
    internal int HeapIndex = -1;

    /// <param name="renewer">Renews the lease (its store, or a claim's heartbeat).</param>
    /// <param name="lease">The lease.</param>
    /// <param name="sentAt">The <see cref="TimeProvider.GetTimestamp"/> taken just before the acquire was sent.</param>
    /// <param name="settings">The ttl the lease was granted with (and renews with), whether to renew, clock, logger and tags.</param>
    private LeaseMonitor(ILeaseRenewer renewer, Lease lease, long sentAt, LeaseMonitorSettings settings)
    {
        _tags = settings.Tags;
        _renewer = renewer;
        _lease = lease;
        _ttl = settings.Ttl;
        _autoRenew = settings.AutoRenew;
        _time = settings.Time;
        _scheduler = RenewalScheduler.For(_time);
        _logger = settings.Logger;
        _deadlineSpan = ToTimestamp(_ttl - (_ttl / 10));
        _intervalSpan = ToTimestamp(_ttl / 3);
        _retrySpan = Math.Max(_intervalSpan / 4, ToTimestamp(TimeSpan.FromMilliseconds(1)));
        _lastConfirmed = sentAt;
        _deadline = sentAt + _deadlineSpan;
        _nextRenewAt = sentAt + _intervalSpan;
    }

    /// <summary>The latest lease (renewals keep the token and fencing token and move ExpiresAt).</summary>
    public Lease Lease => Volatile.Read(ref _lease);

    /// <summary>Cancelled when the lease is found lost or its local deadline passes unconfirmed.</summary>
    public CancellationToken LeaseLost
    {
        get
        {
            var source = Volatile.Read(ref _lost);
            if (source is null)
            {
                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _lost, created, null) ?? created;
                if (ReferenceEquals(source, created) && Volatile.Read(ref _lostFlag) != 0)
                {
                    // Lost before anyone asked: the token starts cancelled.
                    created.Cancel();
                }
            }

            return source.Token;
        }
    }

    /// <summary>Whether the lease has been found lost (<see cref="LeaseLost"/> fired or fires now).</summary>
    public bool IsLost => Volatile.Read(ref _lostFlag) != 0;

    /// <summary>When the last confirmed acquire or renew was sent (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long LastConfirmedAt
    {
        get
        {
            lock (_gate)
            {
                return _lastConfirmed;
            }
        }
    }

    /// <summary>The local time left before the deadline; zero once it passed or the lease was found lost.</summary>
    public TimeSpan TimeLeft
    {
        get
        {
            var left = _time.GetElapsedTime(_time.GetTimestamp(), Volatile.Read(ref _deadline));
            return IsLost || left < TimeSpan.Zero ? TimeSpan.Zero : left;
        }
    }


    /// <summary>Creates a monitor for a lease and schedules its deadline (and renewals when <see cref="LeaseMonitorSettings.AutoRenew"/>).</summary>
    /// <param name="renewer">Renews the lease (its store, or a claim's heartbeat).</param>
    /// <param name="lease">The lease.</param>
    /// <param name="sentAt">When the acquire was sent (timestamp).</param>
    /// <param name="owner">The handle, held weakly so dropping it stops the renewals; or <see langword="null"/> to attach it later.</param>
    /// <param name="settings">How the owner's leases are watched.</param>
    /// <returns>The running monitor.</returns>
    public static LeaseMonitor Start(ILeaseRenewer renewer, Lease lease, long sentAt, object? owner, LeaseMonitorSettings settings)
    {
        var monitor = new LeaseMonitor(renewer, lease, sentAt, settings);
        if (owner is not null)
        {
            monitor.AttachOwner(owner);
        }

        monitor.Reschedule();
        return monitor;
    }

    /// <summary>Sets the handle the renewals hold weakly (when it could not exist before the monitor).</summary>
    /// <param name="owner">The handle.</param>
    public void AttachOwner(object owner)
    {
        lock (_gate)
        {
            if (_state != Stopped)
            {
                _owner.Dispose();
                _owner = new WeakGCHandle<object>(owner);
            }
        }
    }

    /// <summary>Renews now, whatever the scheduled renewals are doing.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Renewed or Lost. Outages propagate as exceptions (and leave the deadline where it was).</returns>
    public ValueTask<LeaseCheck> RenewAsync(CancellationToken cancellationToken) => RenewAsync(_time.GetTimestamp(), cancellationToken);

    /// <summary>Renews, counting the new deadline from <paramref name="sentAt"/> (no later than the moment the renew is sent).</summary>
    private async ValueTask<LeaseCheck> RenewAsync(long sentAt, CancellationToken cancellationToken)
    {
        if (IsLost)
        {
            return LeaseCheck.Lost;
        }

        var renewed = await _renewer.RenewAsync(Lease, _ttl, cancellationToken).ConfigureAwait(false);
        if (renewed is null)
        {
            MarkLost();
            return LeaseCheck.Lost;
        }

        lock (_gate)
        {
            if (renewed.ExpiresAt >= _lease.ExpiresAt)
            {
                Volatile.Write(ref _lease, renewed);
            }

            if (sentAt > _lastConfirmed)
            {
                _lastConfirmed = sentAt;
                Volatile.Write(ref _deadline, sentAt + _deadlineSpan);
                _nextRenewAt = sentAt + _intervalSpan;
            }
        }

        Reschedule();
        return LeaseCheck.Renewed;
    }

    /// <summary>Cancels <see cref="LeaseLost"/> (the lease was found lost, or taken away).</summary>
    public void MarkLost()
    {
        if (Interlocked.Exchange(ref _lostFlag, 1) != 0)
        {
            return;
        }

        _scheduler.Remove(this);
        LeasingTelemetry.LeasesLost.Add(1, _tags);
        var lease = Lease;
        Log.LeaseLost(_logger, lease.Pool, lease.Key, lease.FencingToken);
        if (Volatile.Read(ref _lost) is { } lost)
        {
            // The token reads cancelled at once; its callbacks (the holder's work stopping) run on the
            // thread pool, so a slow callback never delays another lease's deadline on the shared timer.
            var cancelled = lost.CancelAsync();
            if (!cancelled.IsCompleted)
            {
                _ = cancelled.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Stops the renewals and waits for a renew in flight to end; the deadline keeps running.</summary>
    /// <returns>A task that completes when no renew is in flight.</returns>
    public async ValueTask StopRenewingAsync()
    {
        Task renewal;
        CancellationTokenSource? renewing;
        lock (_gate)
        {
            if (_state == Running)
            {
                _state = RenewingStopped;
            }

            renewal = _renewal;
            renewing = _renewing;
        }

        if (!renewal.IsCompleted)
        {
            if (renewing is not null)
            {
                await renewing.CancelAsync().ConfigureAwait(false);
            }

            await renewal.ConfigureAwait(false);
        }
    }

    /// <summary>Stops everything: the lease was released, nothing more to watch.</summary>
    /// <returns>A task that completes when no renew is in flight.</returns>
    public async ValueTask StopAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _state = Stopped;
            _owner.Dispose();
            _owner = default;
        }

        _scheduler.Remove(this);
    }

    /// <summary>Called by the scheduler when this monitor's renewal or deadline is due.</summary>
    /// <param name="now">The scheduler's timestamp.</param>
    internal void OnDue(long now)
    {
        if (IsLost)
        {
            return;
        }

        if (now >= Volatile.Read(ref _deadline))
        {
            MarkLost();
            return;
        }

        CancellationTokenSource? renewing = null;
        TaskCompletionSource? renewal = null;
        lock (_gate)
        {
            if (_state != Running || !_autoRenew || now < _nextRenewAt || !_renewal.IsCompleted)
            {
                // Nothing to renew now (stopped, manual, confirmed recently, or a renew in flight).
            }
            else if (!_owner.TryGetTarget(out _))
            {
                // The handle was dropped without dispose: stop renewing and let the lease expire.
                _state = RenewingStopped;
                Log.HandleAbandoned(_logger, Lease.Pool, Lease.Key);
            }
            else
            {
                // Published before the renew starts, so StopRenewingAsync always sees it in flight.
                _renewing = renewing = new CancellationTokenSource();
                renewal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _renewal = renewal.Task;
            }
        }

        if (renewal is null)
        {
            Reschedule();
            return;
        }

        // On the thread pool, not the shared timer's thread: a slow renewal (a synchronous driver, a
        // stalled connection) never delays the renewals and deadline checks of other leases.
        // The deadline stays watched while the renewal is in flight (a stalled renew must not delay
        // LeaseLost past it). The deadline counts from now, the moment the renewal was due.
        _scheduler.Schedule(this, Volatile.Read(ref _deadline));
        var token = renewing!.Token;
        _ = Task.Run(() => RenewInBackgroundAsync(renewal, now, token), CancellationToken.None);
    }

    private async Task RenewInBackgroundAsync(TaskCompletionSource done, long sentAt, CancellationToken cancellationToken)
    {
        try
        {
            await RenewAsync(sentAt, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped while renewing.
        }
        catch (Exception e)
        {
            LeasingTelemetry.RenewFailures.Add(1, _tags);
            Log.RenewFailed(_logger, Lease.Pool, Lease.Key, e);

            // Retry sooner (but not in a tight loop) while the deadline lasts; counted from when this
            // renewal was due, so the retry does not drift with how long the failure took to arrive.
            lock (_gate)
            {
                _nextRenewAt = sentAt + _retrySpan;
            }
        }
        finally
        {
            done.SetResult();
        }

        // A renewal that fell due while this one was finishing (the timer found it in flight) starts now,
        // not at the next timer tick.
        var now = _time.GetTimestamp();
        bool dueNow;
        lock (_gate)
        {
            dueNow = _state == Running && _autoRenew && now >= _nextRenewAt;
        }

        if (dueNow)
        {
            OnDue(now);
        }
        else
        {
            Reschedule();
        }
    }

    private void Reschedule()
    {
        long due;
        lock (_gate)
        {
            if (_state == Stopped || IsLost)
            {
                return;
            }

            // While a renewal is in flight only the deadline is due; the renewal reschedules when it ends.
            due = _state == Running && _autoRenew && _renewal.IsCompleted ? Math.Min(_nextRenewAt, _deadline) : _deadline;
        }

        _scheduler.Schedule(this, due);
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
}
