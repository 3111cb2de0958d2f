using Microsoft.Extensions.Logging;

namespace Leasing;

/// <summary>
/// Acquires that a caller may abandon. A server cannot undo a command that already ran, so an acquire
/// is sent without the caller's token (the store's own command timeout bounds it) and the caller
/// waits on its token; when the caller leaves first, the grant that lands afterwards is released at
/// once instead of staying held, unrenewed, for a whole lease.
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
    public static ValueTask<Lease?> AwaitAsync(ValueTask<Lease?> pending, ILeaseStore store, ILogger logger, Action? released, CancellationToken cancellationToken)
    {
        if (pending.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            // In-memory stores answer synchronously; nothing can be abandoned then.
            return pending;
        }

        return AwaitSlowAsync(pending.AsTask(), store, logger, released, cancellationToken);
    }

    private static async ValueTask<Lease?> AwaitSlowAsync(Task<Lease?> pending, ILeaseStore store, ILogger logger, Action? released, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !pending.IsCompleted)
        {
            _ = GiveBackAsync(pending, store, logger, released);
            throw;
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
