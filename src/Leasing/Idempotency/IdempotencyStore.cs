namespace Leasing;

/// <summary>
/// The base of every <see cref="IIdempotencyStore"/> backend: its public members check the arguments with
/// the rules of <see cref="LeaseArguments"/> and the caller's cancellation, once for all backends, then call
/// the protected <c>...CoreAsync</c> methods, which a backend implements with storage only.
/// </summary>
/// <remarks>
/// Bad input throws <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>) from the
/// call itself, before any I/O, even when the token is already cancelled. An already cancelled token, with
/// valid arguments, returns a cancelled task and the backend is not called.
/// </remarks>
public abstract class IdempotencyStore : IIdempotencyStore
{
    /// <summary>Creates the store.</summary>
    protected IdempotencyStore()
    {
    }

    /// <inheritdoc />
    public abstract string BackendName { get; }

    /// <inheritdoc/>
    public ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        LeaseArguments.ThrowIfInvalidFingerprint(fingerprint, nameof(fingerprint));
        LeaseArguments.ThrowIfInvalidTtl(lease, nameof(lease));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<IdempotencyClaim>(cancellationToken) : TryClaimCoreAsync(key, fingerprint, lease, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidOwner(key, ownerToken);
        LeaseArguments.ThrowIfInvalidTtl(lease, nameof(lease));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : HeartbeatCoreAsync(key, ownerToken, lease, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidOwner(key, ownerToken);
        if (outcome is not (IdempotencyOutcome.Succeeded or IdempotencyOutcome.Failed))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "The outcome must be Succeeded or Failed.");
        }

        LeaseArguments.ThrowIfInvalidRetention(retention, nameof(retention));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : CompleteCoreAsync(key, ownerToken, outcome, payload, retention, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalidOwner(key, ownerToken);
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : ReleaseCoreAsync(key, ownerToken, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<IdempotencyRecord?>(cancellationToken) : GetCoreAsync(key, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : EvictCoreAsync(key, cancellationToken);
    }

    /// <summary>Claims a key or reports what blocks it; see <see cref="IIdempotencyStore.TryClaimAsync"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="fingerprint">A valid fingerprint.</param>
    /// <param name="lease">A valid lease duration.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The claim, or what blocked it.</returns>
    protected abstract ValueTask<IdempotencyClaim> TryClaimCoreAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Extends the owner's in-progress claim; see <see cref="IIdempotencyStore.HeartbeatAsync"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="ownerToken">A non-empty owner token.</param>
    /// <param name="lease">A valid lease duration.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="false"/> when the caller no longer owns an in-progress claim.</returns>
    protected abstract ValueTask<bool> HeartbeatCoreAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Stores the final outcome; see <see cref="IIdempotencyStore.CompleteAsync"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="ownerToken">A non-empty owner token.</param>
    /// <param name="outcome"><see cref="IdempotencyOutcome.Succeeded"/> or <see cref="IdempotencyOutcome.Failed"/>.</param>
    /// <param name="payload">The serialised result or failure.</param>
    /// <param name="retention">A valid retention.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="false"/> when the caller no longer owns the claim.</returns>
    protected abstract ValueTask<bool> CompleteCoreAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken);

    /// <summary>Gives the claim up; see <see cref="IIdempotencyStore.ReleaseAsync"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="ownerToken">A non-empty owner token.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="false"/> when the caller no longer owns the claim.</returns>
    protected abstract ValueTask<bool> ReleaseCoreAsync(string key, string ownerToken, CancellationToken cancellationToken);

    /// <summary>Reads a record; see <see cref="IIdempotencyStore.GetAsync"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns>The record, or <see langword="null"/> when there is none.</returns>
    protected abstract ValueTask<IdempotencyRecord?> GetCoreAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes a record whatever its state; see <see cref="IIdempotencyStore.EvictAsync"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="cancellationToken">Cancels the call (not yet cancelled when called).</param>
    /// <returns><see langword="true"/> when a record was deleted.</returns>
    protected abstract ValueTask<bool> EvictCoreAsync(string key, CancellationToken cancellationToken);

    private static void ThrowIfInvalidOwner(string key, string ownerToken)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        LeaseArguments.ThrowIfInvalidOwnerToken(ownerToken, nameof(ownerToken));
    }
}
