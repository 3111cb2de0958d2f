using Leasing.InMemory;

namespace Leasing.Tests.Diagnostics;

/// <summary>
/// An in-memory idempotency store under its own type name, so its measurements carry the backend
/// tag "telemetryprobe" and a test can tell them from those of tests running in parallel.
/// </summary>
internal sealed class TelemetryProbeIdempotencyStore : IIdempotencyStore, IIdempotencyCompletionSource
{
    private readonly InMemoryIdempotencyStore _inner = new();

    public ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default) => _inner.TryClaimAsync(key, fingerprint, lease, cancellationToken);

    public ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default) => _inner.HeartbeatAsync(key, ownerToken, lease, cancellationToken);

    public ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default) =>
        _inner.CompleteAsync(key, ownerToken, outcome, payload, retention, cancellationToken);

    public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default) => _inner.ReleaseAsync(key, ownerToken, cancellationToken);

    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default) => _inner.GetAsync(key, cancellationToken);

    public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default) => _inner.EvictAsync(key, cancellationToken);

    public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default) =>
        _inner.SubscribeToCompletionAsync(key, onCompleted, cancellationToken);
}
