namespace Leasing.InMemory.Keys;

/// <summary>The stored state of one single key (a lock). Fields are guarded by <see cref="Gate"/>.</summary>
internal sealed class KeyEntry
{
    public readonly Lock Gate = new();

    public LeaseStatus Status;

    /// <summary>The live owner token while <see cref="Status"/> is Held; null otherwise (a cooldown kills it).</summary>
    public string? Token;

    public long ExpiresAtTicks;

    public long? LastAcquiredTicks;

    public long Fencing;

    /// <summary>Set when the sweep dropped the entry from the table: a caller holding it looks the key up again.</summary>
    public bool Removed;

    public bool IsBusy(long nowTicks) => Status != LeaseStatus.Free && ExpiresAtTicks > nowTicks;
}
