namespace Leasing;

/// <summary>A snapshot of one key's state, as returned by <see cref="ILeaseStore.InspectAsync"/> and <see cref="ILeaseStore.InspectPoolAsync"/>.</summary>
/// <param name="Key">The key, or the member id for a pool.</param>
/// <param name="Status">Free, held or cooling down.</param>
/// <param name="ExpiresAt">When the lease or the cooldown ends (backend clock); <see langword="null"/> when free.</param>
/// <param name="LastAcquiredAt">When the key was last acquired (backend clock); <see langword="null"/> if never.</param>
/// <param name="FencingToken">The last fencing token issued for the key; 0 if none was ever issued.</param>
public sealed record LeaseState(string Key, LeaseStatus Status, DateTimeOffset? ExpiresAt, DateTimeOffset? LastAcquiredAt, long FencingToken);
