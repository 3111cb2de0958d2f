using Leasing.Testing;
using StackExchange.Redis;

namespace Leasing.Redis.Tests;

/// <summary>The Redis idempotency backend on the run's shared server: real time, 1 s leases.</summary>
public sealed class RedisIdempotencyBackend : IdempotencyBackend
{
    private RedisIdempotencyBackend(IConnectionMultiplexer redis, string name = "redis")
    {
        Redis = redis;
        Name = name;
    }

    public IConnectionMultiplexer Redis { get; }

    public override string Name { get; }

    public override TimeProvider TimeProvider => TimeProvider.System;

    public override bool IsTimeVirtual => false;

    public override TimeSpan Ttl => TimeSpan.FromSeconds(1);

    public static async ValueTask<RedisIdempotencyBackend> CreateAsync() => new(await RedisLeaseBackend.SharedConnectionAsync());

    /// <summary>The backend on the run's Redis Cluster (<see cref="Cluster.ClusterConnection"/>).</summary>
    public static async ValueTask<RedisIdempotencyBackend> CreateOnClusterAsync() => new(await Cluster.ClusterConnection.SharedAsync(), "redis-cluster");

    public override IIdempotencyStore CreateStore() => new RedisIdempotencyStore(Redis, RedisLeaseBackend.Options);

    public override async ValueTask PassAsync(TimeSpan duration) => await Task.Delay(duration);
}
