using Leasing.Redis.Internal;
using StackExchange.Redis;

namespace Leasing.Redis;

/// <summary>
/// An <see cref="IIdempotencyStore"/> on Redis (StackExchange.Redis, one shared <see cref="IConnectionMultiplexer"/>).
/// Claim, heartbeat, complete and release are each one Lua script (one EVALSHA) that classifies the
/// record and writes it in one atomic step on the server's clock; nothing is read, decided in the
/// client, then written.
/// </summary>
/// <remarks>
/// <para>One hash per key under <c>{KeyPrefix}:v1:idem:</c> (keys escaped as in <see cref="RedisLeaseStore"/>).
/// A completed record expires with its retention; a record that never completed (released, or whose
/// owner's lease ran out) is kept a day after its claim ended, then goes. Complete and release succeed
/// while the caller's claim is still the key's latest one, even past its lease if nobody reclaimed the
/// key; heartbeat needs an unexpired lease.</para>
/// <para>Completions, releases and evictions are published on one channel per key
/// (<see cref="IIdempotencyCompletionSource"/>), so duplicates waiting in other processes re-claim at
/// once; expiries are not announced. An unreachable server throws <see cref="LeaseStoreUnavailableException"/>
/// within the caller's cancellation and <see cref="RedisLeasingOptions.CommandTimeout"/>.</para>
/// </remarks>
public sealed class RedisIdempotencyStore : IdempotencyStore, IIdempotencyCompletionSource
{
    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly RedisKeyNames _names;
    private readonly TimeSpan _timeout;
    private readonly string _endpoint;

    /// <inheritdoc />
    public override string BackendName => "redis";

    /// <summary>Creates a store over a shared connection.</summary>
    /// <param name="redis">The connection; the store does not dispose it.</param>
    /// <param name="options">The options; defaults when <see langword="null"/>. <see cref="RedisLeasingOptions.WaitForReplicas"/> does not apply here.</param>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public RedisIdempotencyStore(IConnectionMultiplexer redis, RedisLeasingOptions? options = null)
    {
        (_redis, _database, _names, _timeout, _endpoint, _) = RedisStoreSetup.Create(redis, options);
    }

    /// <inheritdoc/>
    protected override async ValueTask<IdempotencyClaim> TryClaimCoreAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken)
    {
        var token = OwnerTokens.Create();
        var reply = (RedisResult[])(await RunAsync(IdempotencyScripts.Claim, key, [fingerprint, Micros(lease), token], "a claim", cancellationToken).ConfigureAwait(false))!;
        var record = ToRecord(key, reply);
        return (string?)reply[0] switch
        {
            "claimed" => new IdempotencyClaim(ClaimOutcome.Claimed, token, record.FencingToken, record),
            "progress" => new IdempotencyClaim(ClaimOutcome.InProgress, null, record.FencingToken, record),
            "completed" => new IdempotencyClaim(ClaimOutcome.Completed, null, record.FencingToken, record),
            _ => new IdempotencyClaim(ClaimOutcome.FingerprintMismatch, null, record.FencingToken, record),
        };
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> HeartbeatCoreAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        return (long)await RunAsync(IdempotencyScripts.Heartbeat, key, [ownerToken, Micros(lease)], "a heartbeat", cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> CompleteCoreAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken)
    {
        RedisValue status = outcome == IdempotencyOutcome.Succeeded ? "s" : "f";
        return (long)await RunAsync(IdempotencyScripts.Complete, key, [ownerToken, status, payload, Micros(retention), _names.IdempotencyChannel(key)], "a completion", cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    protected override async ValueTask<bool> ReleaseCoreAsync(string key, string ownerToken, CancellationToken cancellationToken)
    {
        return (long)await RunAsync(IdempotencyScripts.Release, key, [ownerToken, _names.IdempotencyChannel(key)], "a release", cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    protected override async ValueTask<IdempotencyRecord?> GetCoreAsync(string key, CancellationToken cancellationToken)
    {
        var result = await RunAsync(IdempotencyScripts.Get, key, [], "a read", cancellationToken).ConfigureAwait(false);
        return result.IsNull ? null : ToRecord(key, (RedisResult[])result!);
    }

    /// <inheritdoc/>
    /// <remarks>The key's fencing counter goes with the record; the clock term of the fencing rule still puts the next claim's token above it.</remarks>
    protected override async ValueTask<bool> EvictCoreAsync(string key, CancellationToken cancellationToken)
    {
        return (long)await RunAsync(IdempotencyScripts.Evict, key, [_names.IdempotencyChannel(key)], "an eviction", cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A Redis pub/sub subscription on the key's channel: completions, releases and evictions made by
    /// any process reach it. Messages can be lost (for example while reconnecting); waiters poll too.
    /// </remarks>
    public async ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        ArgumentNullException.ThrowIfNull(onCompleted);
        cancellationToken.ThrowIfCancellationRequested();
        return await RedisSubscription.StartAsync(_redis, RedisChannel.Literal(_names.IdempotencyChannel(key)), onCompleted, _timeout, cancellationToken).ConfigureAwait(false);
    }

    private static long Micros(TimeSpan span) => (span.Ticks + 9) / 10;

    private static IdempotencyRecord ToRecord(string key, RedisResult[] reply)
    {
        var status = (string?)reply[1] switch
        {
            "p" => IdempotencyStatus.InProgress,
            "s" => IdempotencyStatus.Succeeded,
            "f" => IdempotencyStatus.Failed,
            _ => IdempotencyStatus.Released,
        };
        var result = (long)reply[4] == 1 ? new ReadOnlyMemory<byte>((byte[])reply[5]! ?? []) : (ReadOnlyMemory<byte>?)null;
        return new IdempotencyRecord(key, status, (string)reply[2]!, DateTimeOffset.UnixEpoch.AddTicks((long)reply[3] * 10), result, (int)(long)reply[6], (long)reply[7]);
    }

    private Task<RedisResult> RunAsync(RedisScript script, string key, RedisValue[] values, string operation, CancellationToken cancellationToken) =>
        RedisCalls.RunAsync(script.EvaluateAsync(_database, [_names.IdempotencyKey(key)], values), operation, _timeout, cancellationToken, _endpoint);
}
