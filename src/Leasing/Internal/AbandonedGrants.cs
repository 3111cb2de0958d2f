using Microsoft.Extensions.Logging;

namespace Leasing;

/// <summary>
/// Acquires that a caller may abandon. A server cannot undo a command that already ran, so an acquire
/// is sent without the caller's token (the store's own command timeout bounds it) and the caller
/// waits on its token (and, where given, its own time limit); when the caller leaves first, the grant
/// that lands afterwards is released at once instead of staying held, unrenewed, for a whole lease.
/// </summary>
internal static class AbandonedGrants
{
    /// <summary>Awaits <paramref name="pending"/> for a caller that may cancel.</summary>
    /// <param name="pending">The acquire, sent with <see cref="CancellationToken.None"/>.</param>
    /// <param name="store">The store to release an abandoned grant on.</param>
    /// <param name="logger">Logs a failed release.</param>
    /// <param name="released">Called after an abandoned grant was released (e.g. to wake waiters); may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The grant, or <see langword="null"/> when busy.</returns>
    /// <exception cref="OperationCanceledException">The caller cancelled; a grant landing later is released.</exception>
    public static ValueTask<Lease?> AwaitAsync(ValueTask<Lease?> pending, ILeaseStore store, ILogger logger, Action? released, CancellationToken cancellationToken) =>
        AwaitAsync(pending, store, logger, released, Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);

    /// <summary>As the overload without a limit; the caller also stops waiting after <paramref name="limit"/>.</summary>
    /// <param name="pending">The acquire, sent with <see cref="CancellationToken.None"/>.</param>
    /// <param name="store">The store to release an abandoned grant on.</param>
    /// <param name="logger">Logs a failed release.</param>
    /// <param name="released">Called after an abandoned grant was released; may be <see langword="null"/>.</param>
    /// <param name="limit">How long the caller waits for the reply; <see cref="Timeout.InfiniteTimeSpan"/>: until the store answers.</param>
    /// <param name="time">The clock of the limit.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The grant, or <see langword="null"/> when busy.</returns>
    /// <exception cref="LeaseStoreUnavailableException">No answer within <paramref name="limit"/>; a grant landing later is released.</exception>
    public static ValueTask<Lease?> AwaitAsync(ValueTask<Lease?> pending, ILeaseStore store, ILogger logger, Action? released, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (pending.IsCompleted || (!cancellationToken.CanBeCanceled && limit == Timeout.InfiniteTimeSpan))
        {
            // In-memory stores answer synchronously; nothing can be abandoned then.
            return pending;
        }

        return AwaitSlowAsync(pending.AsTask(), store, logger, released, limit, time, cancellationToken);
    }

    /// <summary>
    /// Checks that a grant answered before its local deadline (0.9 of the lease, counted from when the
    /// acquire was sent). A later grant may have expired on the server and been taken by another holder:
    /// handing it out would let two holders act on one key, so it is given back (in the background) and
    /// the caller gets a failed round trip instead (a waiter rides it like an outage).
    /// </summary>
    /// <param name="lease">The grant, or <see langword="null"/> (busy: returned as is).</param>
    /// <param name="sentAt">When the acquire was sent (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="ttl">The lease the acquire asked for.</param>
    /// <param name="time">The clock of <paramref name="sentAt"/>.</param>
    /// <param name="store">The store to release a late grant on.</param>
    /// <param name="logger">Logs a failed release.</param>
    /// <param name="released">Called after a late grant was released (e.g. to wake waiters); may be <see langword="null"/>.</param>
    /// <returns><paramref name="lease"/>, in time.</returns>
    /// <exception cref="LeaseStoreUnavailableException">The grant came too late to use; it is being released.</exception>
    public static Lease? InTime(Lease? lease, long sentAt, TimeSpan ttl, TimeProvider time, ILeaseStore store, ILogger logger, Action? released)
    {
        if (lease is null || !IsLate(sentAt, ttl, time))
        {
            return lease;
        }

        var took = time.GetElapsedTime(sentAt);

        _ = GiveBackAsync(Task.FromResult<Lease?>(lease), store, logger, released);
        throw new LeaseStoreUnavailableException(
            $"The lease store answered an acquire of '{lease.Key}' after {took.TotalMilliseconds:0} ms, past the lease's local deadline ({(ttl - (ttl / 10)).TotalMilliseconds:0} ms); the grant was released unused.");
    }

    /// <summary>Whether an answer to an acquire sent at <paramref name="sentAt"/> comes past the local deadline (0.9 of <paramref name="ttl"/>, as <see cref="LeaseMonitor"/> counts it).</summary>
    /// <param name="sentAt">When the acquire was sent (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="ttl">The lease the acquire asked for.</param>
    /// <param name="time">The clock of <paramref name="sentAt"/>.</param>
    /// <returns><see langword="true"/> when a grant answered now is too late to use.</returns>
    public static bool IsLate(long sentAt, TimeSpan ttl, TimeProvider time) =>
        time.GetElapsedTime(sentAt) >= ttl - (ttl / 10);

    private static async ValueTask<Lease?> AwaitSlowAsync(Task<Lease?> pending, ILeaseStore store, ILogger logger, Action? released, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.WaitAsync(limit, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Also when the reply landed between the cancellation and this filter: the caller gets the
            // cancellation either way, so whatever was granted goes back.
            _ = GiveBackAsync(pending, store, logger, released);
            throw;
        }
        catch (TimeoutException e) when (!pending.IsCompleted || pending.IsCompletedSuccessfully)
        {
            _ = GiveBackAsync(pending, store, logger, released);
            throw new LeaseStoreUnavailableException($"The lease store did not answer an acquire within {limit.TotalMilliseconds:0} ms; a grant that lands later is released.", e);
        }
    }

    private static async Task GiveBackAsync(Task<Lease?> pending, ILeaseStore store, ILogger logger, Action? released)
    {
        Lease? lease;
        try
        {
            lease = await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Nobody waits for this acquire any more; its failure only needs observing.
        catch (Exception)
#pragma warning restore CA1031
        {
            return;
        }

        if (lease is null)
        {
            return;
        }

        try
        {
            await store.ReleaseAsync(lease, CancellationToken.None).ConfigureAwait(false);
            Log.AbandonedGrantReleased(logger, lease.Pool, lease.Key, lease.FencingToken);
            released?.Invoke();
        }
#pragma warning disable CA1031 // The lease expires on its own; the log says so.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AbandonedGrantReleaseFailed(logger, lease.Pool, lease.Key, e);
        }
    }
}
