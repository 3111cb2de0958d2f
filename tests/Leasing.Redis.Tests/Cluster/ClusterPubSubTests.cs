using FluentAssertions;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// Release and completion signals on the cluster: the scripts PUBLISH on the primary of the key's
/// slot (classic pub/sub, which the cluster broadcasts to every node), and a subscriber on another
/// connection, whichever node it subscribed on, is woken.
/// </summary>
[Trait("Category", RedisClusterTestServer.Category)]
public sealed class ClusterPubSubTests
{
    [Fact]
    public async Task ReleasesOnEveryPrimary_WakeASubscriberOfAnotherConnection()
    {
        var subscriberRedis = await ClusterConnection.SharedAsync();
        await using var releaserRedis = await ClusterConnection.ConnectAsync(frequentTopologyChecks: false);
        var subscriber = new RedisLeaseStore(subscriberRedis, RedisLeaseBackend.Options);
        var releaser = new RedisLeaseStore(releaserRedis, RedisLeaseBackend.Options);

        // One pool on each primary.
        var pools = new Dictionary<string, string>();
        while (pools.Count < 3)
        {
            var pool = Unique.Name("pool");
            pools.TryAdd(subscriberRedis.GetServer((RedisKey)subscriber.PoolKeyNamesOf(pool).Meta).EndPoint.ToString()!, pool);
        }

        foreach (var pool in pools.Values)
        {
            await releaser.SetPoolMembersAsync(pool, ["a"]);
            var signals = 0;
            await using (await subscriber.SubscribeToReleasesAsync(pool, () => Interlocked.Increment(ref signals)))
            {
                var lease = (await releaser.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)))!;
                (await releaser.ReleaseAsync(lease)).Should().BeTrue();
                await Eventually.TrueAsync(() => Volatile.Read(ref signals) >= 1, $"the release of {pool} reached the subscriber of the other connection");

                lease = (await releaser.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)))!;
                (await releaser.ForceReleaseAsync(lease.Key, pool)).Should().BeTrue();
                await Eventually.TrueAsync(() => Volatile.Read(ref signals) >= 2, $"the force release of {pool} reached it too");
            }
        }
    }

    [Fact]
    public async Task CompletionsOnEveryPrimary_WakeASubscriberOfAnotherConnection()
    {
        var subscriberRedis = await ClusterConnection.SharedAsync();
        await using var completerRedis = await ClusterConnection.ConnectAsync(frequentTopologyChecks: false);
        var subscriber = new RedisIdempotencyStore(subscriberRedis, RedisLeaseBackend.Options);
        var completer = new RedisIdempotencyStore(completerRedis, RedisLeaseBackend.Options);
        var names = new Internal.RedisKeyNames(RedisLeaseBackend.KeyPrefix);

        var keys = new Dictionary<string, string>();
        while (keys.Count < 3)
        {
            var key = Unique.Name();
            keys.TryAdd(subscriberRedis.GetServer((RedisKey)names.IdempotencyKey(key)).EndPoint.ToString()!, key);
        }

        foreach (var key in keys.Values)
        {
            var signals = 0;
            await using (await subscriber.SubscribeToCompletionAsync(key, () => Interlocked.Increment(ref signals)))
            {
                var claim = await completer.TryClaimAsync(key, "fp", TimeSpan.FromMinutes(1));
                (await completer.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), TimeSpan.FromMinutes(1))).Should().BeTrue();
                await Eventually.TrueAsync(() => Volatile.Read(ref signals) >= 1, $"the completion of {key} reached the subscriber of the other connection");
            }
        }
    }
}
