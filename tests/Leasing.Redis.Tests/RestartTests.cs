using System.Diagnostics;
using FluentAssertions;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>A restart of a private redis-server (no persistence) in the middle of a run.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task ServerRestartWithoutPersistence_CallsFailTypedThenWorkAgainWithHigherFencingTokens()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { CommandTimeout = TimeSpan.FromSeconds(1) });
        var pool = Unique.Name("pool");
        var key = Unique.Name();
        string[] channels = ["a", "b", "c"];
        var leaseDuration = TimeSpan.FromSeconds(1);
        var before = new List<long>();
        await using var channelPool = new ChannelPool(store, new ChannelPoolOptions { Name = pool, Channels = channels, LeaseDuration = leaseDuration, AcquireTimeout = TimeSpan.Zero });
        for (var i = 0; i < 6; i++)
        {
            var single = (await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1)))!;
            before.Add(single.FencingToken);
            (await store.ReleaseAsync(single)).Should().BeTrue();
            await using var member = await channelPool.AcquireAsync();
            before.Add(member.FencingToken);
        }

        var holder = await channelPool.AcquireAsync();

        await server.StopAsync();
        var down = Stopwatch.StartNew();

        // While it is down: typed failures, within the command timeout, never "busy".
        var failures = new List<Func<Task>>
        {
            () => store.TryAcquireAsync(key, TimeSpan.FromMinutes(1)).AsTask(),
            () => store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)).AsTask(),
            () => store.InspectPoolAsync(pool).AsTask(),
            () => channelPool.TryAcquireAsync().AsTask(),
        };
        foreach (var call in failures)
        {
            var clock = Stopwatch.StartNew();
            var thrown = await call.Should().ThrowAsync<LeaseStoreUnavailableException>();
            thrown.Which.InnerException.Should().NotBeNull("the driver's error is kept");
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3));
        }

        // The holder cannot renew: it learns by its local deadline (0.9 of the lease) that it lost the lease.
        await FluentActions.Awaiting(() => Task.Delay(Timeout.Infinite, holder.LeaseLost).WaitAsync(TimeSpan.FromSeconds(5)))
            .Should().ThrowAsync<OperationCanceledException>();
        down.Elapsed.Should().BeLessThan(leaseDuration + TimeSpan.FromSeconds(1));

        await server.StartAgainAsync();

        // Work resumes once the connection is back; the server forgot everything, scripts included.
        var clockBack = Stopwatch.StartNew();
        Lease? again = null;
        while (again is null)
        {
            try
            {
                again = await store.TryAcquireAsync(key, TimeSpan.FromMinutes(1));
            }
            catch (LeaseStoreUnavailableException) when (clockBack.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(50);
            }
        }

        again.Should().NotBeNull("the emptied server has the key free");
        await store.SetPoolMembersAsync(pool, channels); // the host writes its pool again after data loss
        var after = new List<long> { again!.FencingToken };
        for (var i = 0; i < 3; i++)
        {
            var member = (await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)))!;
            after.Add(member.FencingToken);
        }

        after.Min().Should().BeGreaterThan(before.Max(), "the clock term of the fencing rule keeps tokens growing across the lost data");
        (await holder.ReleaseAsync()).Should().BeFalse("the lost lease is not ours any more");
    }

    [Fact]
    public async Task Issue10_RestartWithoutPersistence_VersionedPoolAcquiresFindThePoolUnknownUntilItIsWrittenAgain()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { CommandTimeout = TimeSpan.FromSeconds(1) });
        var pool = Unique.Name("pool");
        await store.SetPoolMembersAsync(pool, ["a", "b"], version: 4);
        var before = (await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1), membersVersion: 4))!;
        (await store.ReleaseAsync(before)).Should().BeTrue();

        await RestartAsync(server, redis);

        var lru = async () => await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1), membersVersion: 4);
        var named = async () => await store.TryAcquirePoolMemberAsync(pool, "a", TimeSpan.FromMinutes(1), membersVersion: 4);
        foreach (var acquire in new[] { lru, named })
        {
            var thrown = (await acquire.Should().ThrowAsync<PoolMembersOutdatedException>()).Which;
            thrown.StoredVersion.Should().BeNull("the restarted server lost the pool's member list and its version");
            thrown.ExpectedVersion.Should().Be(4);
        }

        (await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1))).Should().BeNull("the unversioned acquire cannot tell a lost pool from a busy one");
        await store.SetPoolMembersAsync(pool, ["a", "b"], version: 4);
        var after = await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1), membersVersion: 4);
        after.Should().NotBeNull("the list is stored again");
        after!.FencingToken.Should().BeGreaterThan(before.FencingToken);
    }

    [Fact]
    public async Task Issue10_RestartWithoutPersistence_PoolUsedOnlyThroughTryAcquire_GetsAChannelOnTheFirstCallAfterIt()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { CommandTimeout = TimeSpan.FromSeconds(1) });
        var name = Unique.Name("pool");
        await using var pool = new ChannelPool(store, new ChannelPoolOptions { Name = name, Channels = ["a", "b", "c"], MembersVersion = 1, AcquireTimeout = TimeSpan.Zero });
        var before = (await pool.TryAcquireAsync())!;
        var fencingBefore = before.FencingToken;
        (await before.ReleaseAsync()).Should().BeTrue();

        await RestartAsync(server, redis);

        await using var after = await pool.TryAcquireAsync();
        after.Should().NotBeNull("the acquire itself finds the pool unknown, writes the members again and retries; no status read needed");
        after!.FencingToken.Should().BeGreaterThan(fencingBefore);
        (await store.GetPoolMembersAsync(name)).Should().BeEquivalentTo(["a", "b", "c"]);
    }

    [Fact]
    public async Task Issue10_RestartWithoutPersistence_RollingDeploy_OldListWrittenFirstNeverHandsOutTheRemovedChannel()
    {
        await using var server = await PrivateRedisServer.StartAsync();
        await using var redis = await server.ConnectAsync();
        var options = new RedisLeasingOptions { CommandTimeout = TimeSpan.FromSeconds(1) };
        var oldStore = new RedisLeaseStore(redis, options);
        var newStore = new RedisLeaseStore(redis, options);
        var name = Unique.Name("pool");
        await using var oldPool = new ChannelPool(oldStore, new ChannelPoolOptions { Name = name, Channels = ["a", "b", "c"], MembersVersion = 1, AcquireTimeout = TimeSpan.Zero });
        await using var newPool = new ChannelPool(newStore, new ChannelPoolOptions { Name = name, Channels = ["a", "b"], MembersVersion = 2, AcquireTimeout = TimeSpan.Zero });
        await (await newPool.AcquireAsync()).DisposeAsync();
        await using (var beforeRestart = await oldPool.AcquireAsync())
        {
            beforeRestart.ChannelId.Should().NotBe("c", "before the restart version 2 is stored and the old list is ignored");
        }

        await RestartAsync(server, redis);

        // The old replica acquires first: its acquire finds the pool unknown and writes its list (version 1, with c).
        var first = await oldPool.TryAcquireAsync();
        first.Should().NotBeNull();
        (await oldStore.GetPoolMembersAsync(name)).Should().BeEquivalentTo(["a", "b", "c"]);
        (await first!.ReleaseAsync()).Should().BeTrue();

        // Then the new one: its acquire finds version 1 stored, older than its own, and writes version 2.
        var second = await newPool.TryAcquireAsync();
        second.Should().NotBeNull();
        (await second!.ReleaseAsync()).Should().BeTrue();
        ((long)await redis.GetDatabase().HashGetAsync(oldStore.PoolKeyNamesOf(name).Meta, "version")).Should().Be(2);
        (await newStore.GetPoolMembersAsync(name)).Should().BeEquivalentTo(["a", "b"]);

        var handedOut = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            foreach (var pool in new[] { oldPool, newPool })
            {
                await using var lease = await pool.TryAcquireAsync();
                lease.Should().NotBeNull();
                handedOut.Add(lease!.ChannelId);
            }
        }

        handedOut.Should().NotContain("c", "version 2 removed c, and neither pool hands it out again");
        handedOut.Distinct().Should().BeEquivalentTo(["a", "b"]);
        (await oldPool.TryAcquireChannelAsync("c")).Should().BeNull("c is not a member any more");
        ((long)await redis.GetDatabase().HashGetAsync(oldStore.PoolKeyNamesOf(name).Meta, "version")).Should().Be(2, "the old replica never reverted the list");
    }

    /// <summary>Restarts the server without its data and waits until the connection is back.</summary>
    private static async Task RestartAsync(PrivateRedisServer server, StackExchange.Redis.ConnectionMultiplexer redis)
    {
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        redis.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == StackExchange.Redis.ConnectionType.Interactive)
            {
                restored.TrySetResult();
            }
        };
        await server.StopAsync();
        await server.StartAgainAsync();
        await restored.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }
}
