namespace Leasing.InMemory.Pools;

/// <summary>Removes one release callback from its pool when disposed; disposing twice is harmless.</summary>
internal sealed class ReleaseSubscription(PoolState pool, Action onReleased) : IAsyncDisposable
{
    private int _disposed;

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            pool.Unsubscribe(onReleased);
        }

        return ValueTask.CompletedTask;
    }
}
