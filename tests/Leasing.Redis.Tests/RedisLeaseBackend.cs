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

    private RedisLeaseBackend(IConnectionMultiplexer redis) => Redis = redis;

    public IConnectionMultiplexer Redis { get; }

    public static RedisLeasingOptions Options => new() { KeyPrefix = KeyPrefix };

    public override string Name => "redis";

    public override TimeProvider TimeProvider => TimeProvider.System;

    public override bool IsTimeVirtual => false;

    public override TimeSpan Ttl => TimeSpan.FromMilliseconds(500);

    public static async ValueTask<RedisLeaseBackend> CreateAsync() => new(await SharedConnectionAsync());

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
            return shared ??= await ConnectionMultiplexer.ConnectAsync(await RedisTestServer.GetConnectionStringAsync());
        }
        finally
        {
            Gate.Release();
        }
    }

    public override ILeaseStore CreateStore() => new RedisLeaseStore(Redis, Options);

    public override async ValueTask PassAsync(TimeSpan duration) => await Task.Delay(duration);
}
