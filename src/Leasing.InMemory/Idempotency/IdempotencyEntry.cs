namespace Leasing.InMemory.Idempotency;

/// <summary>The stored state of one idempotency key. Fields are guarded by <see cref="SweptEntry.Gate"/>.</summary>
internal sealed class IdempotencyEntry : SweptEntry
{
    /// <summary>False before the first claim and after an eviction; the fencing counter survives both.</summary>
    public bool Exists;

    public IdempotencyStatus Status;

    public string Fingerprint = string.Empty;

    /// <summary>The owner token of the current claim while <see cref="Status"/> is InProgress; null otherwise.</summary>
    public string? OwnerToken;

    /// <summary>In progress: when the claim expires. Completed: when the record expires. Released: the release time.</summary>
    public long LeaseExpiresAtTicks;

    /// <summary>When the whole record is gone (a completed record's retention; a day after an unfinished claim ends).</summary>
    public long RecordExpiresAtTicks;

    public byte[]? Result;

    public int Attempt;

    /// <inheritdoc/>
    public override bool IsLive(long nowTicks) => Exists && RecordExpiresAtTicks > nowTicks;

    public bool IsOwnedBy(string ownerToken, long nowTicks) =>
        IsLive(nowTicks)
        && Status == IdempotencyStatus.InProgress
        && string.Equals(OwnerToken, ownerToken, StringComparison.Ordinal);

    public IdempotencyRecord ToRecord(string key) => new(
        key,
        Status,
        Fingerprint,
        InMemoryStates.ToTime(LeaseExpiresAtTicks),
        Result is { } result ? new ReadOnlyMemory<byte>(result) : (ReadOnlyMemory<byte>?)null,
        Attempt,
        Fencing);
}
