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
// This file: construction, the acquire paths and disposal. The other concerns have their own files:
// ChannelPool.Waiters.cs (the waiter queue and the poller), ChannelPool.HandOver.cs (releases and the
// hand-over to a waiter), ChannelPool.Status.cs (status reads and the gauges' counts),
// ChannelPool.Subscription.cs (the backend's release announcements) and PoolMembership.cs (the member list).
public sealed partial class ChannelPool : IAsyncDisposable
{
    private readonly ILeaseStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _leaseDuration;
    private readonly TimeSpan _acquireTimeout;
    private readonly bool _autoRenew;
    private readonly TimeSpan _outageTolerance;
    private readonly PoolMembership _membership;
    private readonly StoreRenewer _renewer;
    private readonly LeaseMonitorSettings _monitoring;

    // Guards the waiter queue, the poller's signals, the monitors and the subscription.
    private readonly Lock _gate = new();
    private readonly HashSet<LeaseMonitor> _monitors = [];
    private readonly CancellationTokenSource _disposed = new();
    private IDisposable? _optionsSubscription;

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
        _membership = new PoolMembership(store, Name, _logger, options.Channels, options.MembersVersion, _disposed.Token);
        Tags = [new(LeasingTelemetry.PoolTag, Name), new(LeasingTelemetry.BackendTag, store.BackendName)];
        _renewer = new StoreRenewer(store);
        _monitoring = new LeaseMonitorSettings(_leaseDuration, _autoRenew, _time, _logger, Tags);
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
    internal void UpdateMembers(IList<string> channels, long version) => _membership.Update(channels, version);

    internal void WatchOptions(IDisposable? subscription) => _optionsSubscription = subscription;

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

    private ChannelLease Track(Lease lease, long sentAt) => CreateHandle(lease, sentAt, out _);

    private ChannelLease CreateHandle(Lease lease, long sentAt, out LeaseMonitor monitor)
    {
        // The handle holds the monitor; the monitor holds the handle only weakly.
        monitor = LeaseMonitor.Start(_renewer, lease, sentAt, owner: null, _monitoring);
        var handle = new ChannelLease(this, monitor, _time.GetTimestamp());
        monitor.AttachOwner(handle);
        lock (_gate)
        {
            _monitors.Add(monitor);
        }

        return handle;
    }

    /// <summary>
    /// One LRU acquire with the member-list check: when the backend lost the pool or holds an older
    /// list (a restart without persistence, a rolling deploy), the list is written again and the
    /// acquire retried, so every acquire path recovers by itself. Sent without a caller's token.
    /// </summary>
    private ValueTask<Lease?> AcquireLeastRecentlyUsedAsync()
    {
        if (_membership.IsWritten)
        {
            var pending = _store.TryAcquireLeastRecentlyUsedAsync(Name, _leaseDuration, _membership.Version, CancellationToken.None);
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
            var version = _membership.Version;
            try
            {
                if (first is { } sent && attempt == 0)
                {
                    return await sent.ConfigureAwait(false);
                }

                await _membership.EnsureWrittenAsync(_disposed.Token).ConfigureAwait(false);
                return channelId is null
                    ? await _store.TryAcquireLeastRecentlyUsedAsync(Name, _leaseDuration, version, CancellationToken.None).ConfigureAwait(false)
                    : await _store.TryAcquirePoolMemberAsync(Name, channelId, _leaseDuration, version, CancellationToken.None).ConfigureAwait(false);
            }
            catch (PoolMembersOutdatedException) when (attempt < 3)
            {
                Log.MembersOutdated(_logger, Name, version);
                _membership.Forget();
            }
        }
    }

    /// <summary>The grant, unless it answered past its local deadline (then it is given back and this throws).</summary>
    private Lease? InTime(Lease? lease, long sentAt, Action? released) =>
        AbandonedGrants.InTime(lease, sentAt, _leaseDuration, _time, _store, _logger, released);
}
