namespace Leasing;

// The backend's release announcements (ILeaseReleaseSource): subscribed when the first caller waits, so
// a release elsewhere wakes the poller at once instead of at its next poll.
public sealed partial class ChannelPool
{
    // Guarded by _gate.
    private Task<IAsyncDisposable?>? _subscription;
    private long _subscribedAt;

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
}
