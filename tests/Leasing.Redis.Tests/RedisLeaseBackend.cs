using Leasing.Testing;
using StackExchange.Redis;

namespace Leasing.Redis.Tests;

/// <summary>
/// The Redis backend on the run's shared server (<see cref="RedisTestServer"/>): real time, short
/// real leases. Every store shares one connection, as app instances on one host would share a
/// multiplexer; each <see cref="CreateStore"/> is a new store object (another replica).
/// </summary>
public sealed class RedisLeaseBackend : LeaseBackend
{
    /// <summary>The key prefix of test data, apart from anything else on the server.</summary>
    public const string KeyPrefix = "leasing-test";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static IConnectionMultiplexer? shared;

    private RedisLeaseBackend(IConnectionMultiplexer redis, TimeSpan ttl, string name = "redis")
    {
        Redis = redis;
        Ttl = ttl;
        Name = name;
    }

    public IConnectionMultiplexer Redis { get; }

    public static RedisLeasingOptions Options => new() { KeyPrefix = KeyPrefix };

    public override string Name { get; }

    public override TimeProvider TimeProvider => TimeProvider.System;

    public override bool IsTimeVirtual => false;

    /// <summary>
    /// Real lease time: long enough that a lease taken now is surely held a few round trips later,
    /// and that a heartbeat every Ttl/3 survives the scheduling stalls of a busy 2-core machine.
    /// </summary>
    public override TimeSpan Ttl { get; }

    /// <summary>A backend with leases of <paramref name="ttl"/> (default 1 s).</summary>
    public static async ValueTask<RedisLeaseBackend> CreateAsync(TimeSpan? ttl = null) => new(await SharedConnectionAsync(), ttl ?? TimeSpan.FromSeconds(1));

    /// <summary>A backend on the run's Redis Cluster (<see cref="Cluster.ClusterConnection"/>), leases of <paramref name="ttl"/> (default 1 s).</summary>
    public static async ValueTask<RedisLeaseBackend> CreateOnClusterAsync(TimeSpan? ttl = null) =>
        new(await Cluster.ClusterConnection.SharedAsync(), ttl ?? TimeSpan.FromSeconds(1), "redis-cluster");

    /// <summary>The run's shared connection to the test server.</summary>
    public static async Task<IConnectionMultiplexer> SharedConnectionAsync()
    {
        if (shared is { } known)
        {
            return known;
        }

        await Gate.WaitAsync();
        try
        {
            if (shared is null)
            {
                var redis = await ConnectionMultiplexer.ConnectAsync(await RedisTestServer.GetConnectionStringAsync());
                await WarmUpAsync(redis);
                shared = redis;
            }

            return shared;
        }
        finally
        {
            Gate.Release();
        }
    }

    // Runs every script once, so that no test with short leases pays for loading scripts and JIT.
    internal static async Task WarmUpAsync(IConnectionMultiplexer redis)
    {
        var store = new RedisLeaseStore(redis, Options);
        var pool = Unique.Name("pool");
        await store.SetPoolMembersAsync(pool, ["a", "b"]);
        await store.GetPoolMembersAsync(pool);
        var member = await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromSeconds(5));
        member = await store.RenewAsync(member!, TimeSpan.FromSeconds(5));
        await store.ReleaseAsync(member!);
        member = await store.TryAcquirePoolMemberAsync(pool, "a", TimeSpan.FromSeconds(5));
        await store.ReleaseWithCooldownAsync(member!, TimeSpan.FromSeconds(5));
        await store.ForceReleaseAsync("a", pool);
        await store.InspectPoolAsync(pool);
        var key = Unique.Name();
        var single = await store.TryAcquireAsync(key, TimeSpan.FromSeconds(5));
        single = await store.RenewAsync(single!, TimeSpan.FromSeconds(5));
        await store.ReleaseAsync(single!);
        await store.ReleaseWithCooldownAsync(single!, TimeSpan.FromSeconds(5));
        await store.ForceReleaseAsync(key);
        await store.InspectAsync([key]);

        // The idempotency scripts too: their conformance tests use 1 s real-time leases.
        var claims = new RedisIdempotencyStore(redis, Options);
        var claimed = await claims.TryClaimAsync(key, "warm-up", TimeSpan.FromSeconds(5));
        await claims.HeartbeatAsync(key, claimed.OwnerToken!, TimeSpan.FromSeconds(5));
        await claims.ReleaseAsync(key, claimed.OwnerToken!);
        claimed = await claims.TryClaimAsync(key, "warm-up", TimeSpan.FromSeconds(5));
        await claims.CompleteAsync(key, claimed.OwnerToken!, IdempotencyOutcome.Succeeded, new byte[] { 1 }, TimeSpan.FromSeconds(5));
        await claims.GetAsync(key);
        await claims.EvictAsync(key);
    }

    public override ILeaseStore CreateStore() => new RedisLeaseStore(Redis, Options);

    public override async ValueTask PassAsync(TimeSpan duration) => await Task.Delay(duration);
}
