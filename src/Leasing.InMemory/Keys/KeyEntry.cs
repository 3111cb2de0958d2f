namespace Leasing.InMemory.Keys;

/// <summary>The stored state of one single key (a lock). Fields are guarded by <see cref="SweptEntry.Gate"/>.</summary>
internal sealed class KeyEntry : SweptEntry
{
    public LeaseStatus Status;

    /// <summary>The live owner token while <see cref="Status"/> is Held; null otherwise (a cooldown kills it).</summary>
    public string? Token;

    public long ExpiresAtTicks;

    public long? LastAcquiredTicks;

    /// <summary>The fenced state; null when none. An entry with state is never swept.</summary>
    public LeaseStateValue? State;

    public bool IsBusy(long nowTicks) => Status != LeaseStatus.Free && ExpiresAtTicks > nowTicks;

    /// <inheritdoc/>
    public override bool IsLive(long nowTicks) => State is not null || IsBusy(nowTicks);
}
