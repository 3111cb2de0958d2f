using Leasing.Benchmarks.Baselines;
using Leasing.Benchmarks.Quick;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Suites;

/// <summary>The lease-store operations on <c>RedisLeaseStore</c> (<c>LEASING_REDIS</c>); baseline: two trivial <c>EVALSHA</c> round trips.</summary>
public class RedisLeaseStoreBenchmark : LeaseStoreBenchmark
{
    private ConnectionMultiplexer _redis = null!;
    private RawEvalsha _raw = null!;

    protected override async Task<ILeaseStore> CreateStoreAsync()
    {
        _redis = await Servers.ConnectRedisAsync(Servers.Resolve().Redis, $"leasing-bench-{RunId}");
        _raw = await RawEvalsha.CreateAsync(_redis, $"bench:{RunId}", 1);
        return Backends.Redis(_redis);
    }

    protected override async ValueTask RawPairAsync() => await _raw.PairAsync(0);

    protected override async Task DisposeStoreAsync()
    {
        await Cleanup.RedisAsync(_redis, RunId);
        await _redis.DisposeAsync();
    }
}
