namespace Leasing.Testing;

/// <summary>
/// Wraps a real idempotency store and injects network faults: completions whose request is lost
/// (fail without reaching the backend), completions whose reply is lost (the backend stored the
/// outcome, the caller sees an error), and a <see cref="Down"/> switch that fails every call.
/// Forwards completion signals when the inner store gives them.
/// </summary>
public sealed class FaultyIdempotencyStore(IIdempotencyStore inner) : IIdempotencyStore, IIdempotencyCompletionSource
{
    private readonly TaskCompletionSource<IdempotencyClaim> _firstHeldClaim = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _lostRequests;
    private int _lostReplies;
    private int _completes;
    private int _failures;
    private int _claims;
    private readonly long _created = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _timeline = new();

    /// <summary>What reached this store and what it answered, with the milliseconds since it was created (for failure messages).</summary>
    public string Timeline => string.Join("; ", _timeline);

    private void Note(string what) =>
        _timeline.Enqueue($"{System.Diagnostics.Stopwatch.GetElapsedTime(_created).TotalMilliseconds:0} ms {what}");

    /// <summary>When true, every call throws <see cref="LeaseStoreUnavailableException"/> without reaching the backend.</summary>
    public bool Down { get; set; }

    /// <summary>CompleteAsync calls (faulty or not).</summary>
    public int Completes => Volatile.Read(ref _completes);

    /// <summary>TryClaimAsync calls (faulty or not).</summary>
    public int Claims => Volatile.Read(ref _claims);

    /// <summary>How many calls failed because the store was <see cref="Down"/>.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>The next <paramref name="count"/> completions fail without reaching the backend.</summary>
    public void LoseCompleteRequests(int count) => Volatile.Write(ref _lostRequests, count);

    /// <summary>The next <paramref name="count"/> completions reach the backend, then fail as if the reply was lost.</summary>
    public void LoseCompleteReplies(int count) => Volatile.Write(ref _lostReplies, count);

    /// <summary>When set, every claim's reply waits for this task after the backend answered (a late reply).</summary>
    public Task? HoldClaimReplies { get; set; }

    /// <summary>Completes with the first claim answer that ran on the backend while replies were held.</summary>
    public Task<IdempotencyClaim> FirstHeldClaim => _firstHeldClaim.Task;

    public async ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _claims);
        if (Down)
        {
            throw Outage();
        }

        var hold = HoldClaimReplies;
        Note("claim sent");
        var claim = await inner.TryClaimAsync(key, fingerprint, lease, cancellationToken);
        Note($"claim {claim.Outcome}");
        if (hold is not null)
        {
            _firstHeldClaim.TrySetResult(claim);
            await hold.WaitAsync(cancellationToken);
        }

        return claim;
    }

    public async ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        if (Down)
        {
            throw Outage();
        }

        Note("heartbeat sent");
        var renewed = await inner.HeartbeatAsync(key, ownerToken, lease, cancellationToken);
        Note($"heartbeat {renewed}");
        return renewed;
    }

    public async ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _completes);
        if (Down || TakeOne(ref _lostRequests))
        {
            Note("complete lost");
            throw Outage();
        }

        Note("complete sent");
        var stored = await inner.CompleteAsync(key, ownerToken, outcome, payload, retention, cancellationToken);
        Note($"complete {stored}");
        if (TakeOne(ref _lostReplies))
        {
            throw Outage();
        }

        return stored;
    }

    public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<bool>(Outage()) : inner.ReleaseAsync(key, ownerToken, cancellationToken);

    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<IdempotencyRecord?>(Outage()) : inner.GetAsync(key, cancellationToken);

    public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default) =>
        Down ? ValueTask.FromException<bool>(Outage()) : inner.EvictAsync(key, cancellationToken);

    public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default) =>
        inner is IIdempotencyCompletionSource source
            ? source.SubscribeToCompletionAsync(key, onCompleted, cancellationToken)
            : ValueTask.FromException<IAsyncDisposable>(new NotSupportedException("The inner store gives no completion signals."));

    private static bool TakeOne(ref int counter)
    {
        while (true)
        {
            var current = Volatile.Read(ref counter);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref counter, current - 1, current) == current)
            {
                return true;
            }
        }
    }

    private LeaseStoreUnavailableException Outage()
    {
        Interlocked.Increment(ref _failures);
        return new LeaseStoreUnavailableException("The idempotency store is unavailable (simulated fault).", new IOException("connection reset"));
    }
}
