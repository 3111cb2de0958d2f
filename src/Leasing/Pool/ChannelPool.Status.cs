namespace Leasing;

// Status reads: GetStatusAsync, the gauges' counts (refreshed in the background from a status read) and
// the status an exhausted caller's exception reports.
public sealed partial class ChannelPool
{
    // The status read in flight, if any (one key: this pool), shared by every caller that comes meanwhile.
    private readonly SingleFlight<byte, byte, ChannelStatus[]> _statusReads = new(static _ => 0);
    private PoolCounts? _lastCounts;
    private long _lastCountsAt;
    private int _refreshingCounts;

    /// <summary>Reads the state of every channel in one round trip.</summary>
    /// <remarks>
    /// Concurrent calls on one pool share one round trip: a call that comes while a read is in flight
    /// joins it and gets its answer (or its error); a call that comes after it completed starts a new
    /// read. Cancelling a call ends only that caller's wait: the shared read goes on for the others,
    /// and is cancelled only when every caller waiting for it has left.
    /// </remarks>
    /// <param name="cancellationToken">Cancels this caller's wait (and the read, when no other caller waits for it).</param>
    /// <returns>One status per channel.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public async ValueTask<IReadOnlyList<ChannelStatus>> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var ticket = _statusReads.Join(0, flight => ReadStatusAsync(flight.CancellationToken));
        var shared = await ticket.Flight.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (ticket.IsCreator)
        {
            return shared;
        }

        // A list of its own for each caller that joined: one that casts it back to an array changes nobody else's.
        ChannelStatus[] copy = [.. shared];
        return copy;
    }

    /// <summary>The one round trip of a status read, shared by the callers of <see cref="GetStatusAsync"/>.</summary>
    private async Task<ChannelStatus[]> ReadStatusAsync(CancellationToken cancellationToken)
    {
        await _membership.EnsureWrittenAsync(cancellationToken).ConfigureAwait(false);
        var states = await _store.InspectPoolAsync(Name, cancellationToken).ConfigureAwait(false);
        if (states.Count == 0)
        {
            // The backend does not know the pool (a restart without persistence lost it): write the
            // member list again before the next acquire. The version rule keeps a newer list.
            _membership.Forget();
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
}
