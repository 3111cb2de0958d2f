namespace Leasing.InMemory;

/// <summary>Turns stored fields into the <see cref="LeaseState"/> a caller sees at a given instant.</summary>
internal static class InMemoryStates
{
    public static LeaseState Describe(string key, LeaseStatus status, long expiresAtTicks, long? lastAcquiredTicks, long fencing, long nowTicks)
    {
        // An expired lease or cooldown that nobody has reclaimed yet is free.
        var busy = status != LeaseStatus.Free && expiresAtTicks > nowTicks;
        return new LeaseState(
            key,
            busy ? status : LeaseStatus.Free,
            busy ? ToTime(expiresAtTicks) : null,
            lastAcquiredTicks is { } ticks ? ToTime(ticks) : null,
            fencing);
    }

    public static DateTimeOffset ToTime(long utcTicks) => new(utcTicks, TimeSpan.Zero);
}
