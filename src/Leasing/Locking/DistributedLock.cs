using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasing;

/// <summary>
/// Runs a block of work as the single writer for a key across replicas. One object is one replica:
/// its in-process guard answers a second caller in the same process (<see cref="LockSkipReason.InProgressHere"/>)
/// without a round trip; another replica's holder gives <see cref="LockSkipReason.LockHeld"/>.
/// </summary>
/// <remarks>
/// A held lock is renewed every LeaseDuration/3 by compare-and-set. When a renewal finds the lease
/// lost, or the local deadline passes unconfirmed, <see cref="LockHandle.LeaseLost"/> (and the token
/// passed to the work) is cancelled, so the work stops instead of racing a new writer. Keys follow
/// <see cref="LeaseArguments"/>; locks share the single-key namespace of the <see cref="ILeaseStore"/>.
/// </remarks>
public sealed class DistributedLock
{
    private static readonly Task Never = new TaskCompletionSource().Task;

    private readonly ILeaseStore _store;
    private readonly DistributedLockOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly StoreRenewer _renewer;
    private readonly LeaseMonitorSettings _monitoring;
    private readonly ConcurrentDictionary<string, LockHolder> _guard = new(StringComparer.Ordinal);

    /// <summary>Creates a lock over a store.</summary>
    /// <param name="store">The lease store shared by every replica.</param>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The local clock (renewals, deadlines, waits); <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public DistributedLock(ILeaseStore store, DistributedLockOptions? options = null, TimeProvider? timeProvider = null, ILogger<DistributedLock>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new DistributedLockOptions();
        DistributedLockOptionsValidator.ThrowIfInvalid(options, nameof(options));
        _store = store;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _tags = [new(LeasingTelemetry.BackendTag, store.BackendName)];
        _renewer = new StoreRenewer(store);
        _monitoring = new LeaseMonitorSettings(options.LeaseDuration, AutoRenew: true, _time, _logger, _tags);
    }

    /// <summary>Takes the lock if it is free.</summary>
    /// <param name="key">The key (the rules of <see cref="LeaseArguments"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The handle; <see langword="null"/> when another caller here or another replica holds the key.</returns>
    /// <exception cref="ArgumentException">The key breaks the key rules.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public async ValueTask<LockHandle?> TryAcquireAsync(string key, CancellationToken cancellationToken = default) =>
        (await TryAcquireCoreAsync(key, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)).Handle;

    /// <summary>Takes the lock, waiting up to <paramref name="timeout"/> for it to be free.</summary>
    /// <param name="key">The key.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> tries once; <see cref="Timeout.InfiniteTimeSpan"/> waits until cancelled.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The handle.</returns>
    /// <exception cref="ArgumentException">The key breaks the key rules, or the timeout is negative.</exception>
    /// <exception cref="TimeoutException">The lock stayed held for the whole timeout.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend stayed unreachable for <see cref="DistributedLockOptions.OutageTolerance"/> (shorter outages only delay the grant).</exception>
    public async ValueTask<LockHandle> AcquireAsync(string key, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative (use Timeout.InfiniteTimeSpan to wait until cancelled).");
        }

        var started = _time.GetTimestamp();
        var delay = _options.RetryMinDelay;
        long? outageSince = null;
        var answeredHeld = false;
        while (true)
        {
            LockHandle? handle;
            LockHolder? holder;
            try
            {
                // The reply is awaited no longer than the time left (a stalled backend cannot hold the
                // call past its timeout; a grant that lands later is released).
                var limit = timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : Max(timeout - _time.GetElapsedTime(started), TimeSpan.FromMilliseconds(1));
                (handle, _, holder) = await TryAcquireCoreAsync(key, limit, cancellationToken).ConfigureAwait(false);
                outageSince = null;
            }
            catch (LeaseStoreUnavailableException e)
            {
                // A blip only delays the grant; an outage of OutageTolerance (or past the timeout) fails
                // the call. Measured from the first failed answer: one stalled command is one failure.
                outageSince ??= _time.GetTimestamp();
                var lasted = _time.GetElapsedTime(outageSince.Value);
                var timedOut = timeout != Timeout.InfiniteTimeSpan && _time.GetElapsedTime(started) >= timeout;
                if (timedOut && answeredHeld && lasted < _options.OutageTolerance)
                {
                    // The backend answered "held" before; only the last try ran out of time: the lock stayed
                    // held as far as anyone knows, which is a timeout, not an outage.
                    throw new TimeoutException($"The lock '{key}' stayed held for {timeout.TotalMilliseconds:0} ms (the last try did not answer in time; its error is inside).", e);
                }

                if (lasted >= _options.OutageTolerance || timedOut)
                {
                    throw new LeaseStoreUnavailableException(
                        $"The lock '{key}': the lease store stayed unreachable for {lasted.TotalMilliseconds:0} ms (outage tolerance {_options.OutageTolerance.TotalMilliseconds:0} ms); the last error is inside.",
                        e);
                }

                (handle, holder) = (null, null);
            }

            if (handle is not null)
            {
                return handle;
            }

            answeredHeld |= outageSince is null;
            var left = timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : timeout - _time.GetElapsedTime(started);
            if (left != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The lock '{key}' stayed held for {timeout.TotalMilliseconds:0} ms.");
            }

            // A release here wakes the wait at once; another replica's release is found by the poll.
            var sleep = Backoff.Jitter(delay);
            if (left != Timeout.InfiniteTimeSpan && left < sleep)
            {
                sleep = left;
            }

            var woken = holder?.Released ?? Never;
            try
            {
                await woken.WaitAsync(sleep, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The poll is due.
            }

            delay = Backoff.Grow(delay, _options.RetryMaxDelay);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> as the single writer for <paramref name="key"/> if the lock is free;
    /// the lock is always released afterwards, also when the work throws (the exception propagates).
    /// </summary>
    /// <typeparam name="T">The work's result type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="work">The work; its token is cancelled when the lease is lost or <paramref name="cancellationToken"/> is.</param>
    /// <param name="cancellationToken">Cancels the acquire and the work.</param>
    /// <returns>The work's result, or why it did not run.</returns>
    /// <exception cref="ArgumentException">The key breaks the key rules.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public async Task<LockResult<T>> TryRunExclusiveAsync<T>(string key, Func<LockHandle, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var (handle, skipped, _) = await TryAcquireCoreAsync(key, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        if (handle is null)
        {
            return new LockResult<T>(false, default, skipped);
        }

        await using (handle.ConfigureAwait(false))
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, handle.LeaseLost);
            var value = await work(handle, linked.Token).ConfigureAwait(false);
            return new LockResult<T>(true, value, null);
        }
    }

    internal ILeaseStore Store => _store;

    internal async ValueTask<bool> ReleaseAsync(LockHandle handle, CancellationToken cancellationToken)
    {
        var monitor = handle.Monitor;
        try
        {
            await monitor.StopRenewingAsync().ConfigureAwait(false);
            var released = await _store.ReleaseAsync(monitor.Lease, cancellationToken).ConfigureAwait(false);
            await monitor.StopAsync().ConfigureAwait(false);
            return released;
        }
        finally
        {
            // Leaves the guard either way: a lease we could not release expires on its own, and this
            // replica's next caller then learns from the backend whether the key is free.
            Leave(monitor.Lease.Key, handle.Holder);
        }
    }

    internal void OnReleaseAtDisposeFailed(LockHandle handle, Exception error) =>
        Log.LockReleaseAtDisposeFailed(_logger, handle.Key, error);

    private async ValueTask<(LockHandle? Handle, LockSkipReason? Skipped, LockHolder? Holder)> TryAcquireCoreAsync(string key, TimeSpan limit, CancellationToken cancellationToken)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        cancellationToken.ThrowIfCancellationRequested();

        var holder = new LockHolder();
        while (!_guard.TryAdd(key, holder))
        {
            if (_guard.TryGetValue(key, out var current))
            {
                if (current.IsActive)
                {
                    return (null, LockSkipReason.InProgressHere, current);
                }

                // A holder whose lease is known lost (or a handle dropped without release) guards nothing.
                _guard.TryRemove(new KeyValuePair<string, LockHolder>(key, current));
                current.Leave();
            }
        }

        using var activity = LeasingTelemetry.ActivitySource.StartActivity("leasing.lock.acquire");
        Lease? lease;
        var sentAt = _time.GetTimestamp();
        try
        {
            // Sent without the caller's token (a server cannot undo a command that ran); a grant that
            // lands after the caller cancelled is released at once instead of blocking the key for a lease.
            // A grant answered past its local deadline is given back unused (another holder may have it by now).
            lease = AbandonedGrants.InTime(
                await AbandonedGrants.AwaitAsync(_store.TryAcquireAsync(key, _options.LeaseDuration, CancellationToken.None), _store, _logger, null, limit, _time, cancellationToken).ConfigureAwait(false),
                sentAt,
                _options.LeaseDuration,
                _time,
                _store,
                _logger,
                null);
        }
        catch
        {
            Leave(key, holder);
            throw;
        }

        if (lease is null)
        {
            Leave(key, holder);
            activity?.SetTag("leasing.lock.acquired", false);
            return (null, LockSkipReason.LockHeld, null);
        }

        var monitor = LeaseMonitor.Start(_renewer, lease, sentAt, owner: null, _monitoring);
        var handle = new LockHandle(this, monitor, holder);
        monitor.AttachOwner(handle);
        holder.Hold(monitor);
        activity?.SetTag("leasing.lock.acquired", true);
        return (handle, null, null);
    }

    private void Leave(string key, LockHolder holder)
    {
        _guard.TryRemove(new KeyValuePair<string, LockHolder>(key, holder));
        holder.Leave();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
