namespace Leasing.Testing;

/// <summary>
/// Wraps a real idempotency store and counts the calls per operation (round trips to the backend).
/// Forwards completion signals when the inner store gives them.
/// </summary>
public sealed class CountingIdempotencyStore(IIdempotencyStore inner) : IIdempotencyStore, IIdempotencyCompletionSource
{
    private int _claims;
    private int _heartbeats;
    private int _heartbeatsAnswered;
    private int _completes;
    private int _releases;
    private int _gets;

    /// <summary>TryClaimAsync calls.</summary>
    public int Claims => Volatile.Read(ref _claims);

    /// <summary>HeartbeatAsync calls the store has answered (the renewal's outcome is known).</summary>
    public int HeartbeatsAnswered => Volatile.Read(ref _heartbeatsAnswered);

    /// <summary>HeartbeatAsync calls.</summary>
    public int Heartbeats => Volatile.Read(ref _heartbeats);

    /// <summary>CompleteAsync calls.</summary>
    public int Completes => Volatile.Read(ref _completes);

    /// <summary>ReleaseAsync calls.</summary>
    public int Releases => Volatile.Read(ref _releases);

    /// <summary>GetAsync calls.</summary>
    public int Gets => Volatile.Read(ref _gets);

    public ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _claims);
        return inner.TryClaimAsync(key, fingerprint, lease, cancellationToken);
    }

    public ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _heartbeats);
        var pending = inner.HeartbeatAsync(key, ownerToken, lease, cancellationToken);
        if (pending.IsCompleted)
        {
            Interlocked.Increment(ref _heartbeatsAnswered);
            return pending;
        }

        return CountAnswerAsync(pending);

        async ValueTask<bool> CountAnswerAsync(ValueTask<bool> call)
        {
            try
            {
                return await call;
            }
            finally
            {
                Interlocked.Increment(ref _heartbeatsAnswered);
            }
        }
    }

    public ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _completes);
        return inner.CompleteAsync(key, ownerToken, outcome, payload, retention, cancellationToken);
    }

    public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _releases);
        return inner.ReleaseAsync(key, ownerToken, cancellationToken);
    }

    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        return inner.GetAsync(key, cancellationToken);
    }

    public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default) => inner.EvictAsync(key, cancellationToken);

    public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default) =>
        inner is IIdempotencyCompletionSource source
            ? source.SubscribeToCompletionAsync(key, onCompleted, cancellationToken)
            : ValueTask.FromResult<IAsyncDisposable>(NoSubscription.Instance);

    private sealed class NoSubscription : IAsyncDisposable
    {
        public static readonly NoSubscription Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
