using Leasing.InMemory;

namespace Leasing.Benchmarks.Quick;

/// <summary>
/// DESIGN §7 idempotency, in one process: 50 parallel duplicates of one call through one
/// <see cref="IdempotentExecutor"/> must run the action once and claim once. Counted over several
/// keys; the worst key is reported.
/// </summary>
internal static class DuplicateCalls
{
    public static async Task<(int MaxExecutions, int MaxClaims, int Keys)> RunAsync(int duplicates = 50, int keys = 20)
    {
        var store = new ClaimCountingStore(new InMemoryIdempotencyStore());
        await using var executor = new IdempotentExecutor(store);
        int maxExecutions = 0, maxClaims = 0;
        for (var k = 0; k < keys; k++)
        {
            var key = $"bench-duplicates-{k}";
            var executions = 0;
            var claimsBefore = store.Claims;
            using var start = new ManualResetEventSlim();
            var calls = Enumerable.Range(0, duplicates).Select(_ => Task.Run(async () =>
            {
                start.Wait();
                return await executor.ExecuteAsync(key, async ct =>
                {
                    Interlocked.Increment(ref executions);
                    await Task.Delay(20, ct).ConfigureAwait(false);
                    return 42;
                }, "fingerprint").ConfigureAwait(false);
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(calls).ConfigureAwait(false);
            if (results.Any(r => r.Value != 42))
            {
                throw new InvalidOperationException("A duplicate got another result.");
            }

            maxExecutions = Math.Max(maxExecutions, executions);
            maxClaims = Math.Max(maxClaims, store.Claims - claimsBefore);
        }

        return (maxExecutions, maxClaims, keys);
    }

    /// <summary>Counts claim round trips; forwards everything (completion signals included) to the real store.</summary>
    private sealed class ClaimCountingStore(InMemoryIdempotencyStore inner) : IIdempotencyStore, IIdempotencyCompletionSource
    {
        private int _claims;

        public int Claims => Volatile.Read(ref _claims);

        public ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _claims);
            return inner.TryClaimAsync(key, fingerprint, lease, cancellationToken);
        }

        public ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default) =>
            inner.HeartbeatAsync(key, ownerToken, lease, cancellationToken);

        public ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default) =>
            inner.CompleteAsync(key, ownerToken, outcome, payload, retention, cancellationToken);

        public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default) =>
            inner.ReleaseAsync(key, ownerToken, cancellationToken);

        public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default) =>
            inner.GetAsync(key, cancellationToken);

        public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default) =>
            inner.EvictAsync(key, cancellationToken);

        public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default) =>
            inner.SubscribeToCompletionAsync(key, onCompleted, cancellationToken);
    }
}
