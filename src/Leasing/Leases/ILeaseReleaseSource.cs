namespace Leasing;

/// <summary>
/// Optional capability of an <see cref="ILeaseStore"/>: announces releases of pool members to other
/// processes (Redis pub/sub, PostgreSQL LISTEN/NOTIFY) so waiting ChannelPool instances wake at once.
/// Notifications can be lost; waiters keep polling as a fallback.
/// </summary>
public interface ILeaseReleaseSource
{
    /// <summary>Subscribes to releases (and cooldown ends the backend knows of) in a pool.</summary>
    /// <param name="pool">The pool name.</param>
    /// <param name="onReleased">Called, on any thread, when a member of the pool may have become free. Must not block.</param>
    /// <param name="cancellationToken">Cancels the subscription call.</param>
    /// <returns>A handle that unsubscribes when disposed.</returns>
    ValueTask<IAsyncDisposable> SubscribeToReleasesAsync(string pool, Action onReleased, CancellationToken cancellationToken = default);
}
