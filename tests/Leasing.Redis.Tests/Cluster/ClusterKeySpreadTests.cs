using FluentAssertions;
using Leasing.Redis.Internal;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// The cluster suites really use the whole cluster: the unique pool, key and idempotency names of a
/// run land on all three primaries, each written where the cluster routes its slot, and every key
/// of one pool shares that pool's slot.
/// </summary>
[Trait("Category", RedisClusterTestServer.Category)]
public sealed class ClusterKeySpreadTests
{
    [Fact]
    public async Task UniqueNamesOfOneRun_LandOnAllThreePrimaries()
    {
        var redis = await ClusterConnection.SharedAsync();
        var leases = new RedisLeaseStore(redis, RedisLeaseBackend.Options);
        var claims = new RedisIdempotencyStore(redis, RedisLeaseBackend.Options);
        var names = new RedisKeyNames(RedisLeaseBackend.KeyPrefix);
        var written = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var pool = Unique.Name("pool");
            await leases.SetPoolMembersAsync(pool, ["a", "b"]);
            (await leases.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1))).Should().NotBeNull();
            var poolKeys = leases.PoolKeyNamesOf(pool);
            new[] { poolKeys.Queue, poolKeys.Members, poolKeys.Channel }.Select(k => redis.HashSlot(k)).Should().AllBeEquivalentTo(redis.HashSlot(poolKeys.Meta));
            written.Add(poolKeys.Meta);

            var key = Unique.Name();
            (await leases.TryAcquireAsync(key, TimeSpan.FromMinutes(1))).Should().NotBeNull();
            written.Add(leases.SingleKeyNameOf(key));

            var idempotencyKey = Unique.Name();
            (await claims.TryClaimAsync(idempotencyKey, "fp", TimeSpan.FromMinutes(1))).Outcome.Should().Be(ClaimOutcome.Claimed);
            written.Add(names.IdempotencyKey(idempotencyKey));
        }

        var owners = new HashSet<string>();
        foreach (var key in written)
        {
            redis.HashSlot(key).Should().Be(ClusterSlot.Of(key), "the test helper computes slots as the cluster does");
            var owner = redis.GetServer((RedisKey)key);
            owner.IsReplica.Should().BeFalse();
            ((long)await owner.ExecuteAsync("EXISTS", (RedisKey)key)).Should().Be(1, $"{key} is stored on the primary that owns its slot ({owner.EndPoint})");
            owners.Add(owner.EndPoint.ToString()!);
        }

        owners.Should().HaveCount(3, "60 unique names spread over the slots of all three primaries");
    }
}
