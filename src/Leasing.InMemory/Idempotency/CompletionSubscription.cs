namespace Leasing.InMemory.Idempotency;

/// <summary>Removes one completion callback when disposed; disposing twice is harmless.</summary>
internal sealed class CompletionSubscription(InMemoryIdempotencyStore store, string key, Action onCompleted) : IAsyncDisposable
{
    private int _disposed;

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            store.Unsubscribe(key, onCompleted);
        }

        return ValueTask.CompletedTask;
    }
}
