namespace Leasing;

/// <summary>The state of one channel of a <see cref="ChannelPool"/>.</summary>
/// <param name="ChannelId">The channel id.</param>
/// <param name="Status">Free, held or cooling down.</param>
/// <param name="ExpiresAt">When the lease or cooldown ends (backend clock); <see langword="null"/> when free.</param>
/// <param name="LastAcquiredAt">When the channel was last acquired (backend clock); <see langword="null"/> if never.</param>
public sealed record ChannelStatus(string ChannelId, LeaseStatus Status, DateTimeOffset? ExpiresAt, DateTimeOffset? LastAcquiredAt);
