namespace Leasing;

/// <summary>The stored state of one idempotency key.</summary>
/// <param name="Key">The key.</param>
/// <param name="Status">In progress, succeeded, failed or released.</param>
/// <param name="Fingerprint">The fingerprint of the input that first claimed the key.</param>
/// <param name="LeaseExpiresAt">When the in-progress claim expires (backend clock); for completed records, when the record expires.</param>
/// <param name="Result">The stored payload of a completed record; <see langword="null"/> otherwise.</param>
/// <param name="Attempt">How many times the key was claimed.</param>
/// <param name="FencingToken">The fencing number of the latest claim.</param>
public sealed record IdempotencyRecord(string Key, IdempotencyStatus Status, string Fingerprint,
    DateTimeOffset LeaseExpiresAt, ReadOnlyMemory<byte>? Result, int Attempt, long FencingToken);

/// <summary>The answer of <see cref="IIdempotencyStore.TryClaimAsync"/>.</summary>
/// <param name="Outcome">Claimed, in progress, completed or fingerprint mismatch.</param>
/// <param name="OwnerToken">The owner token when <see cref="ClaimOutcome.Claimed"/>; <see langword="null"/> otherwise.</param>
/// <param name="FencingToken">The fencing number of the claim when claimed; else the existing record's.</param>
/// <param name="Existing">The record as found (for InProgress, Completed and FingerprintMismatch), or the new record when claimed.</param>
public sealed record IdempotencyClaim(ClaimOutcome Outcome, string? OwnerToken, long FencingToken, IdempotencyRecord? Existing)
{
    /// <summary>Describes the claim without its owner token, which must not reach logs.</summary>
    /// <returns>The outcome, fencing token and existing record.</returns>
    public override string ToString() => $"IdempotencyClaim {{ Outcome = {Outcome}, FencingToken = {FencingToken}, Existing = {Existing} }}";
}
