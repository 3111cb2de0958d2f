using FluentAssertions;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// The command counts of <see cref="RoundTripTests"/> on the cluster: one EVALSHA per acquire,
/// renew, release and pool status read, wherever the key lives; <c>InspectAsync</c> over keys of
/// many slots sends one script per slot, together. Counted by a private connection and by the
/// primaries' command statistics (the tests run alone, so no other test adds to them).
/// </summary>
[Collection(ClusterSerialCollection.Name)]
[Trait("Category", RedisClusterTestServer.Category)]
public sealed class ClusterRoundTripTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    private ConnectionMultiplexer redis = null!;

    public async Task InitializeAsync()
    {
        await ClusterNodes.WaitHealthyAsync();
        redis = await ClusterConnection.ConnectAsync(frequentTopologyChecks: false);
        await ClusterConnection.LoadScriptsAsync(redis);
    }

    public async Task DisposeAsync()
    {
        if (redis is not null)
        {
            await redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task LeaseAndPoolOperations_OneCommandEach_OnTheCluster()
    {
        var store = new RedisLeaseStore(redis);
        await WarmUpAsync(store);
        var key = Unique.Name();
        var pool = Unique.Name("pool");
        await store.SetPoolMembersAsync(pool, Enumerable.Range(0, 100).Select(i => $"ch-{i}").ToArray());

        var (lease, acquire) = await CountAsync(() => store.TryAcquireAsync(key, Ttl).AsTask());
        var (renewed, renew) = await CountAsync(() => store.RenewAsync(lease!, Ttl).AsTask());
        var (released, release) = await CountAsync(() => store.ReleaseAsync(renewed!).AsTask());
        var (member, poolAcquire) = await CountAsync(() => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask());
        var (memberRenewed, poolRenew) = await CountAsync(() => store.RenewAsync(member!, Ttl).AsTask());
        var (status, poolStatus) = await CountAsync(() => store.InspectPoolAsync(pool).AsTask());
        var (memberReleased, poolRelease) = await CountAsync(() => store.ReleaseAsync(memberRenewed!).AsTask());

        released.Should().BeTrue();
        memberReleased.Should().BeTrue();
        status.Should().HaveCount(100);
        foreach (var (name, count) in new[] { ("acquire", acquire), ("renew", renew), ("release", release), ("pool acquire", poolAcquire), ("pool renew", poolRenew), ("pool status read", poolStatus), ("pool release", poolRelease) })
        {
            count.Should().Be(new Commands(1, 1), $"a {name} is one EVALSHA on the cluster");
        }
    }

    [Fact]
    public async Task Inspect_KeysOfManySlots_OneScriptPerSlotOnTheirPrimaries()
    {
        var store = new RedisLeaseStore(redis);
        await WarmUpAsync(store);

        // Two keys that share a slot (found by their hash, as escaping lets no key pick one), and 28 more.
        var bySlot = new Dictionary<int, string>();
        string[] pair;
        while (true)
        {
            var name = Unique.Name();
            var slot = ClusterSlot.Of(store.SingleKeyNameOf(name));
            if (bySlot.TryGetValue(slot, out var first))
            {
                pair = [first, name];
                break;
            }

            bySlot[slot] = name;
        }

        var keys = pair.Concat(bySlot.Values.Where(k => k != pair[0]).Take(28)).ToArray();
        var slots = keys.Select(k => ClusterSlot.Of(store.SingleKeyNameOf(k))).Distinct().Count();
        var primaries = keys.Select(k => redis.GetServer((RedisKey)store.SingleKeyNameOf(k)).EndPoint).Distinct().Count();
        var held = (await store.TryAcquireAsync(pair[1], Ttl))!;

        var (states, inspect) = await CountAsync(() => store.InspectAsync(keys).AsTask());

        slots.Should().Be(keys.Length - 1);
        primaries.Should().Be(3, "30 keys of 29 slots spread over all three primaries");
        inspect.Should().Be(new Commands(slots, slots), "one script per slot (the two keys of one slot share a script), sent together");
        states.Select(s => s.Key).Should().Equal(keys, "the answers come back in the order asked");
        states.Count(s => s.Status == LeaseStatus.Held).Should().Be(1);
        states[1].Status.Should().Be(LeaseStatus.Held);
        (await store.ReleaseAsync(held)).Should().BeTrue();
    }

    [Fact]
    public async Task AcquireWithWaitForReplicas_TheScriptAndOneWait()
    {
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { WaitForReplicas = 1 });
        await WarmUpAsync(store);

        var (lease, acquire) = await CountAsync(() => store.TryAcquireAsync(Unique.Name(), Ttl).AsTask());
        var (renewed, renew) = await CountAsync(() => store.RenewAsync(lease!, Ttl).AsTask());

        lease.Should().NotBeNull("the primary's replica confirmed it");
        acquire.Should().Be(new Commands(2, 1), "the acquire script, then WAIT on the same primary");
        renew.Should().Be(new Commands(1, 1), "only acquires wait for replicas");
        (await store.ReleaseAsync(renewed!)).Should().BeTrue();
    }

    // Runs every script once, on every primary, so the counted calls are not the ones that load scripts.
    private static async Task WarmUpAsync(RedisLeaseStore store)
    {
        for (var i = 0; i < 20; i++)
        {
            var pool = Unique.Name("pool");
            await store.SetPoolMembersAsync(pool, ["a"]);
            var member = await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl);
            member = await store.RenewAsync(member!, Ttl);
            await store.InspectPoolAsync(pool);
            await store.ReleaseAsync(member!);
            var single = await store.TryAcquireAsync(Unique.Name(), Ttl);
            single = await store.RenewAsync(single!, Ttl);
            await store.ReleaseAsync(single!);
            await store.InspectAsync([single!.Key]);
        }
    }

    private async Task<(T Result, Commands Count)> CountAsync<T>(Func<Task<T>> call)
    {
        var primaries = ClusterConnection.Primaries(redis);
        foreach (var primary in primaries)
        {
            await primary.ExecuteAsync("CONFIG", "RESETSTAT");
        }

        var before = redis.GetCounters().Interactive.OperationCount;
        var result = await call();
        var operations = redis.GetCounters().Interactive.OperationCount - before;
        long runs = 0;
        foreach (var primary in primaries)
        {
            var stats = (await primary.InfoAsync("commandstats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
            runs += Calls(stats, "cmdstat_evalsha") + Calls(stats, "cmdstat_eval");
        }

        return (result, new Commands(operations, runs));
    }

    private static long Calls(Dictionary<string, string> stats, string command) =>
        stats.TryGetValue(command, out var value) ? long.Parse(value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>Top-level commands the client sent, and script runs the primaries counted.</summary>
    private sealed record Commands(long Sent, long ScriptRuns);
}
