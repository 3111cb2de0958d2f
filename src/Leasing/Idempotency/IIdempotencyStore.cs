namespace Leasing;

/// <summary>
/// A backend for idempotent execution: one recorded outcome per key, claimed by one owner at a
/// time under a finite lease. Claim, heartbeat, complete and release are each one atomic
/// compare-and-set on the backend; nothing is read, decided in the client, then written.
/// </summary>
/// <remarks>
/// Keys follow the rules of <see cref="LeaseArguments"/>; bad input throws <see cref="ArgumentException"/>
/// before any I/O. An unreachable backend throws <see cref="LeaseStoreUnavailableException"/>.
/// </remarks>
public interface IIdempotencyStore
{
    /// <summary>
    /// The backend's name in telemetry tags (<see cref="LeasingTelemetry.BackendTag"/>) and health data:
    /// <c>memory</c>, <c>redis</c>, <c>sqlite</c> or <c>postgresql</c> for the library's stores. A store
    /// that does not name itself (a decorator, a backend of your own) is named after its type: lower
    /// case, without a <c>LeaseStore</c>/<c>IdempotencyStore</c>/<c>Store</c> suffix.
    /// </summary>
    string BackendName => LeasingTelemetry.BackendOf(this);

    /// <summary>Claims the key if absent, released, or its in-progress lease expired; otherwise reports what is there. A fingerprint mismatch is reported first.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="fingerprint">The fingerprint of the input.</param>
    /// <param name="lease">How long the claim lasts unless heartbeated.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The claim: <see cref="ClaimOutcome.Claimed"/> with an owner token and a fencing number, or what blocked it.</returns>
    ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Extends the owner's in-progress claim to backend now + <paramref name="lease"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ownerToken">The owner token from the claim.</param>
    /// <param name="lease">The new lease from now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the caller no longer owns an in-progress claim (nothing changed).</returns>
    ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Stores the final outcome (a result, or a terminal failure) for <paramref name="retention"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ownerToken">The owner token from the claim.</param>
    /// <param name="outcome">Succeeded or failed.</param>
    /// <param name="payload">The serialised result or failure.</param>
    /// <param name="retention">How long the outcome is kept and replayed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the caller no longer owns the claim (nothing changed).</returns>
    ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default);

    /// <summary>Gives the claim up (a retryable failure): claimable again at once; fingerprint and attempt count are kept.</summary>
    /// <param name="key">The key.</param>
    /// <param name="ownerToken">The owner token from the claim.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the caller no longer owns the claim (nothing changed).</returns>
    ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default);

    /// <summary>Reads a record.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The record, or <see langword="null"/> when there is none (or it expired).</returns>
    ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Operators only: deletes a record whatever its state.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when a record was deleted.</returns>
    ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>
/// Optional capability of an <see cref="IIdempotencyStore"/>: announces completions and releases to
/// other processes (Redis pub/sub, PostgreSQL LISTEN/NOTIFY), so duplicates waiting on another
/// instance re-claim at once instead of at their next poll. Notifications can be lost; waiters poll too.
/// </summary>
public interface IIdempotencyCompletionSource
{
    /// <summary>Subscribes to completions and releases of one key.</summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="onCompleted">Called, on any thread, when the key may have completed or been released. Must not block.</param>
    /// <param name="cancellationToken">Cancels the subscription call.</param>
    /// <returns>A handle that unsubscribes when disposed.</returns>
    ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default);
}
