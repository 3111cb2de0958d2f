namespace Leasing;

// Releases: a plain release, or while callers of this process wait, the release and the next acquire in
// one call, whose channel is handed on to the first waiter; and the bookkeeping when a handle ends.
public sealed partial class ChannelPool
{
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
        var version = _membership.Version;
        var result = await _store.ReleaseAndAcquireLeastRecentlyUsedAsync(lease, _leaseDuration, version, CancellationToken.None).ConfigureAwait(false);
        if (result.MembersOutdated)
        {
            Log.MembersOutdated(_logger, Name, version);
            _membership.Forget();
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
        if (Volatile.Read(ref _poller) is not { IsCompleted: false } || !_membership.IsWritten)
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
}
