namespace Leasing.Redis;

/// <summary>Options of the Redis backend (<see cref="RedisLeaseStore"/>, <see cref="RedisIdempotencyStore"/>); usable without DI.</summary>
public sealed class RedisLeasingOptions
{
    /// <summary>The longest key prefix, in characters.</summary>
    public const int MaxKeyPrefixLength = 100;

    /// <summary>
    /// The first part of every key and channel name; the library appends the format version, so keys
    /// start with <c>{KeyPrefix}:v1:</c> (pools: <c>{KeyPrefix}:v2:</c>). Use it to keep several applications apart on one server.
    /// Letters, digits and <c>. _ - :</c> only (no braces: they would change cluster slots).
    /// </summary>
    /// <value>Default <c>leasing</c>.</value>
    public string KeyPrefix { get; set; } = "leasing";

    /// <summary>
    /// When above zero, every acquire is followed by Redis <c>WAIT</c> for this many replicas (within
    /// <see cref="CommandTimeout"/>); a lease that fewer replicas confirmed is released and the acquire
    /// fails with <see cref="LeaseStoreUnavailableException"/>. For deployments that fail over to a
    /// replica. Costs one more round trip per acquire; and Redis holds the connection that sent <c>WAIT</c>
    /// until the replicas answer, so other calls of the same multiplexer to that primary queue behind it
    /// (use a separate multiplexer for these stores when that matters).
    /// </summary>
    /// <value>Default 0 (off).</value>
    public int WaitForReplicas { get; set; }

    /// <summary>
    /// How long one call waits for Redis before it fails with <see cref="LeaseStoreUnavailableException"/>
    /// (the caller's cancellation token can end it sooner). The multiplexer's own timeouts also apply. A
    /// pool's least-recently-used acquire or release that queued behind one of this process in flight (group
    /// commit) waits for that call and then its own, so up to twice this.
    /// </summary>
    /// <value>Default 5 seconds; at most 5 minutes.</value>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
