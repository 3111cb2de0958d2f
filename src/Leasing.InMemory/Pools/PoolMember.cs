namespace Leasing.InMemory.Pools;

/// <summary>
/// One member of a pool, also after it was removed from the member list: it keeps its fencing
/// counter and LRU position for a later re-add, and stays renewable and releasable while held.
/// Guarded by its pool's lock.
/// </summary>
internal sealed class PoolMember(string id)
{
    public string Id { get; } = id;

    /// <summary>Position in the free index, or -1. In it exactly when a current member is physically free.</summary>
    public int FreeSlot = -1;

    /// <summary>Position in the expiry index, or -1. In it exactly when held or cooling (possibly expired, not yet reclaimed).</summary>
    public int ExpirySlot = -1;

    /// <summary>
    /// LRU order: the pool's sequence at the last acquisition (positive), or, never acquired, a
    /// negative rank in ordinal id order among the never-acquired members (so they come first).
    /// </summary>
    public long Sequence;

    public LeaseStatus Status;

    /// <summary>The live owner token while <see cref="Status"/> is Held; null otherwise (a cooldown kills it).</summary>
    public string? Token;

    public long ExpiresAtTicks;

    public long LastAcquiredTicks;

    public long Fencing;

    /// <summary>The fenced state (bytes, writer's fencing token, write time); null when none. Dropped when the member leaves the list.</summary>
    public LeaseStateValue? State;

    /// <summary>Whether the member is in the pool's current member list (only those are handed out).</summary>
    public bool IsMember;

    /// <summary>Marks the members of the list being applied by SetPoolMembers.</summary>
    public long MembershipStamp;

    public bool HasBeenAcquired => Sequence > 0;

    /// <summary>Held or cooling at <paramref name="nowTicks"/> (an expired lease or cooldown counts as free).</summary>
    public bool IsBusy(long nowTicks) => Status != LeaseStatus.Free && ExpiresAtTicks > nowTicks;
}
