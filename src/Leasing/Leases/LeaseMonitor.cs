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
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token sources carry no timers; handles keep exposing LeaseLost after release, so they are never disposed.")]
internal sealed class LeaseMonitor
{
    private readonly ILeaseStore _store;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _margin;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?>[] _tags;
    private WeakReference<object>? _owner;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private ITimer? _deadlineTimer;
    private Task _heartbeat = Task.CompletedTask;
    private Lease _lease;
    private long _deadline;
    private long _lastConfirmed;

    /// <param name="store">The store that granted the lease.</param>
    /// <param name="lease">The lease.</param>
    /// <param name="ttl">The ttl it was granted with (and renews with).</param>
    /// <param name="sentAt">The <see cref="TimeProvider.GetTimestamp"/> taken just before the acquire was sent.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="owner">The handle, held weakly; <see langword="null"/> when nothing owns the monitor.</param>
    /// <param name="tags">The metric tags (pool and backend).</param>
    private LeaseMonitor(ILeaseStore store, Lease lease, TimeSpan ttl, long sentAt, TimeProvider time, ILogger logger, object? owner, KeyValuePair<string, object?>[] tags)
    {
        _tags = tags;
        _owner = owner is null ? null : new WeakReference<object>(owner);
        _store = store;
        _lease = lease;
        _ttl = ttl;
        _margin = ttl / 10;
        _interval = ttl / 3;
        _time = time;
        _logger = logger;
        _lastConfirmed = sentAt;
        _deadline = sentAt + ToTimestamp(ttl - _margin);
    }

    /// <summary>The latest lease (renewals keep the token and fencing token and move ExpiresAt).</summary>
    public Lease Lease => Volatile.Read(ref _lease);

    /// <summary>Cancelled when the lease is found lost or its local deadline passes unconfirmed.</summary>
    public CancellationToken LeaseLost => _lost.Token;

    /// <summary>Whether <see cref="LeaseLost"/> has fired.</summary>
    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>The local time left before the deadline.</summary>
    public TimeSpan TimeLeft => _time.GetElapsedTime(_time.GetTimestamp(), Volatile.Read(ref _deadline));

    /// <summary>Creates a monitor for a lease and starts its deadline timer (and heartbeat when <paramref name="autoRenew"/>).</summary>
    /// <param name="store">The store.</param>
    /// <param name="lease">The lease.</param>
    /// <param name="ttl">The ttl.</param>
    /// <param name="sentAt">When the acquire was sent (timestamp).</param>
    /// <param name="autoRenew">Whether to heartbeat every ttl/3.</param>
    /// <param name="owner">The handle, held weakly so dropping it stops the heartbeat; or <see langword="null"/> to attach it later.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="tags">The metric tags (pool and backend); default: the backend of <paramref name="store"/>.</param>
    /// <returns>The running monitor.</returns>
    public static LeaseMonitor Start(ILeaseStore store, Lease lease, TimeSpan ttl, long sentAt, bool autoRenew, object? owner, TimeProvider time, ILogger logger, KeyValuePair<string, object?>[]? tags = null)
    {
        tags ??= [new(LeasingTelemetry.BackendTag, LeasingTelemetry.BackendOf(store))];
        var monitor = new LeaseMonitor(store, lease, ttl, sentAt, time, logger, owner, tags);
        monitor.ArmDeadline();
        if (autoRenew)
        {
            monitor._heartbeat = monitor.HeartbeatAsync();
        }

        return monitor;
    }

    /// <summary>Sets the handle the heartbeat holds weakly (when it could not exist before the monitor).</summary>
    /// <param name="owner">The handle.</param>
    public void AttachOwner(object owner) => Volatile.Write(ref _owner, new WeakReference<object>(owner));

    /// <summary>Renews now, whatever the heartbeat is doing.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Renewed or Lost. Outages propagate as exceptions (and leave the deadline where it was).</returns>
    public async ValueTask<LeaseCheck> RenewAsync(CancellationToken cancellationToken)
    {
        if (IsLost)
        {
            return LeaseCheck.Lost;
        }

        var sentAt = _time.GetTimestamp();
        var renewed = await _store.RenewAsync(Lease, _ttl, cancellationToken).ConfigureAwait(false);
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
                Volatile.Write(ref _deadline, sentAt + ToTimestamp(_ttl - _margin));
                _deadlineTimer?.Change(TimeLeft, Timeout.InfiniteTimeSpan);
            }
        }

        return LeaseCheck.Renewed;
    }

    /// <summary>Cancels <see cref="LeaseLost"/> (the lease was found lost, or taken away).</summary>
    public void MarkLost()
    {
        if (!_lost.IsCancellationRequested)
        {
            LeasingTelemetry.LeasesLost.Add(1, _tags);
            Log.LeaseLost(_logger, Lease.Pool, Lease.Key, Lease.FencingToken);
            _lost.Cancel();
        }
    }

    /// <summary>Stops the heartbeat and waits for a renew in flight to end; the deadline keeps running.</summary>
    /// <returns>A task that completes when the heartbeat has stopped.</returns>
    public async ValueTask StopRenewingAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        await _heartbeat.ConfigureAwait(false);
    }

    /// <summary>Stops everything: the lease was released, nothing more to watch.</summary>
    /// <returns>A task that completes when the heartbeat has stopped.</returns>
    public async ValueTask StopAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _deadlineTimer?.Dispose();
            _deadlineTimer = null;
        }
    }

    private void ArmDeadline()
    {
        lock (_gate)
        {
            _deadlineTimer = _time.CreateTimer(static state => ((LeaseMonitor)state!).OnDeadline(), this, TimeLeft, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnDeadline()
    {
        var left = TimeLeft;
        if (left > TimeSpan.Zero)
        {
            // A renew moved the deadline after the timer was armed.
            lock (_gate)
            {
                _deadlineTimer?.Change(left, Timeout.InfiniteTimeSpan);
            }

            return;
        }

        MarkLost();
    }

    private async Task HeartbeatAsync()
    {
        var delay = _interval;
        while (!_stop.IsCancellationRequested && !IsLost)
        {
            try
            {
                await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (Volatile.Read(ref _owner) is { } owner && !owner.TryGetTarget(out _))
            {
                // The handle was dropped without dispose: stop renewing and let the lease expire.
                Log.HandleAbandoned(_logger, Lease.Pool, Lease.Key);
                return;
            }

            var check = await CheckAsync().ConfigureAwait(false);
            if (check == LeaseCheck.Lost)
            {
                return;
            }

            // After a failed renew, retry sooner (but not in a tight loop) while the deadline lasts.
            delay = check == LeaseCheck.Unknown ? Max(_interval / 4, TimeSpan.FromMilliseconds(1)) : _interval;
        }
    }

    private async ValueTask<LeaseCheck> CheckAsync()
    {
        if (_time.GetElapsedTime(Volatile.Read(ref _lastConfirmed)) < _interval)
        {
            return LeaseCheck.Held;
        }

        try
        {
            return await RenewAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return LeaseCheck.Unknown;
        }
        catch (Exception e)
        {
            LeasingTelemetry.RenewFailures.Add(1, _tags);
            Log.RenewFailed(_logger, Lease.Pool, Lease.Key, e);
            return LeaseCheck.Unknown;
        }
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
