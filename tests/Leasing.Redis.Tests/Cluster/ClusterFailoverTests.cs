using System.Diagnostics;
using FluentAssertions;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// Failovers on the run's local cluster (node timeout 2 s): a manual <c>CLUSTER FAILOVER</c>, a
/// primary killed with SIGKILL, and what <see cref="RedisLeasingOptions.WaitForReplicas"/> saves
/// when a primary dies right after granting leases. Each test measures the window in which calls
/// failed and prints its figures; each ends with the cluster healthy again (a killed node is
/// started again and rejoins as a replica of the promoted one).
/// </summary>
[Collection(ClusterSerialCollection.Name)]
[Trait("Category", RedisClusterTestServer.FailoverCategory)]
public sealed class ClusterFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan LongTtl = TimeSpan.FromMinutes(2);

    /// <summary>The bound asserted on every error window: node timeout 2 s, election, the client finding the new primary.</summary>
    private static readonly TimeSpan WindowLimit = TimeSpan.FromSeconds(10);

    private ConnectionMultiplexer redis = null!;

    public async Task InitializeAsync()
    {
        await ClusterNodes.WaitHealthyAsync();
        redis = await ClusterConnection.ConnectAsync();
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
    public async Task ManualFailover_HeldLeasesStayHeldAndNoLeaseIsLost_CallsFailForABoundedWindow()
    {
        var store = Store(redis);
        var other = Store(redis);
        var key = Unique.Name();
        var primaryPort = ClusterNodes.PortOf(redis.GetServer((RedisKey)store.SingleKeyNameOf(key)));
        var replicaPort = await ClusterNodes.ReplicaOfAsync(primaryPort);
        var lease = (await store.TryAcquireAsync(key, LongTtl))!;
        var pool = NamesOn(primaryPort, n => store.PoolKeyNamesOf(n).Meta, 1, "pool")[0];
        await store.SetPoolMembersAsync(pool, ["a", "b"]);
        var member = (await store.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl))!;
        var lockKey = NamesOn(primaryPort, store.SingleKeyNameOf, 1, "lock")[0];
        var locks = new DistributedLock(store, new DistributedLockOptions { LeaseDuration = TimeSpan.FromSeconds(6) });
        await using var handle = await locks.AcquireAsync(lockKey, TimeSpan.FromSeconds(5));

        var clock = Stopwatch.StartNew();
        TimeSpan promoted;
        ErrorWindow window;
        await using (window = ErrorWindow.Start(async () => await store.RenewAsync(lease, LongTtl) is not null))
        {
            await ClusterNodes.ManualFailoverAsync(replicaPort);
            await ClusterNodes.UntilAsync(() => ClusterNodes.IsPrimaryAsync(replicaPort), "the replica took over", TimeSpan.FromSeconds(20));
            promoted = clock.Elapsed;
            await ClusterNodes.UntilAsync(
                () => Task.FromResult(ClusterNodes.PortOf(redis.GetServer((RedisKey)store.SingleKeyNameOf(key))) == replicaPort),
                "the client routes the key to the promoted replica", TimeSpan.FromSeconds(20));
            await SucceedsAgainAsync(window);
        }

        Report("manual failover", promoted, window);
        window.Refusals.Should().Be(0, "a coordinated failover loses no write: every renew found the lease");
        window.Longest.Should().BeLessThan(WindowLimit);
        (await store.RenewAsync(lease, LongTtl)).Should().NotBeNull("the lease is still held on the promoted replica");
        (await other.TryAcquireAsync(key, LongTtl)).Should().BeNull("the lease is still held: nobody else gets it");
        (await store.RenewAsync(member, LongTtl)).Should().NotBeNull("the pool member is still held");
        (await other.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl))!.Key.Should().Be(member.Key == "a" ? "b" : "a", "only the free member is handed out");
        (await other.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl)).Should().BeNull();
        handle.LeaseLost.IsCancellationRequested.Should().BeFalse("the lock's heartbeat rode through the failover");
        (await handle.ReleaseAsync()).Should().BeTrue();
        (await store.ReleaseAsync(lease)).Should().BeTrue();
        await ClusterNodes.WaitHealthyAsync();
    }

    [Fact]
    public async Task PrimaryKilled_ReplicaPromotedWithinABoundedWindow_FencingTokensKeepGrowing()
    {
        var store = Store(redis);
        var other = Store(redis);
        var key = Unique.Name();
        var primary = redis.GetServer((RedisKey)store.SingleKeyNameOf(key));
        var primaryPort = ClusterNodes.PortOf(primary);
        var replicaPort = await ClusterNodes.ReplicaOfAsync(primaryPort);
        var before = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            var taken = (await store.TryAcquireAsync(key, LongTtl))!;
            before.Add(taken.FencingToken);
            (await store.ReleaseAsync(taken)).Should().BeTrue();
        }

        var lease = (await store.TryAcquireAsync(key, LongTtl))!;
        before.Add(lease.FencingToken);
        ((long)await primary.ExecuteAsync("WAIT", 1, 2000)).Should().Be(1, "the replica has the lease before the primary dies");
        var node = await ClusterNodes.ProcessOfAsync(primaryPort);

        var clock = Stopwatch.StartNew();
        TimeSpan promoted;
        ErrorWindow window;
        try
        {
            await using (window = ErrorWindow.Start(async () => await store.RenewAsync(lease, LongTtl) is not null))
            {
                await ClusterNodes.KillAsync(node);
                await ClusterNodes.UntilAsync(() => ClusterNodes.IsPrimaryAsync(replicaPort), "the replica was promoted", TimeSpan.FromSeconds(30));
                promoted = clock.Elapsed;
                await window.ClosedAfterFailureAsync(TimeSpan.FromSeconds(30));
                await SucceedsAgainAsync(window);
            }

            Report("kill -9 of the primary", promoted, window);
            window.Refusals.Should().Be(0, "the lease was on the replica (WAIT 1) before the primary died");
            window.Longest.Should().BeLessThan(WindowLimit);
            (await other.TryAcquireAsync(key, LongTtl)).Should().BeNull("the lease is still held on the promoted replica");
            (await store.ReleaseAsync(lease)).Should().BeTrue();
            var after = new List<long>();
            for (var i = 0; i < 10; i++)
            {
                var taken = (await store.TryAcquireAsync(key, LongTtl))!;
                after.Add(taken.FencingToken);
                (await store.ReleaseAsync(taken)).Should().BeTrue();
            }

            output.WriteLine($"fencing tokens of {key}: last before the kill {before.Max()}, first after {after[0]}");
            after.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
            after.Min().Should().BeGreaterThan(before.Max(), "every fencing token issued after the failover exceeds every one issued before it");
        }
        finally
        {
            await ClusterNodes.RestartAsync(node);
            await ClusterNodes.WaitHealthyAsync();
        }
    }

    [Fact]
    public async Task PrimaryKilledWithUnreplicatedGrants_TheyAreLost_FencingTokensStillGrowByTheClock()
    {
        const int Count = 20;
        var store = Store(redis);
        var other = Store(redis);
        var key = Unique.Name();
        var primary = redis.GetServer((RedisKey)store.SingleKeyNameOf(key));
        var primaryPort = ClusterNodes.PortOf(primary);
        var replicaPort = await ClusterNodes.ReplicaOfAsync(primaryPort);
        var keys = NamesOn(primaryPort, store.SingleKeyNameOf, Count, "lost");
        var issued = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var taken = (await store.TryAcquireAsync(key, LongTtl))!;
            issued.Add(taken.FencingToken);
            (await store.ReleaseAsync(taken)).Should().BeTrue();
        }

        ((long)await primary.ExecuteAsync("WAIT", 1, 2000)).Should().Be(1, "the tokens so far are on the replica");
        var node = await ClusterNodes.ProcessOfAsync(primaryPort);
        try
        {
            await ClusterNodes.CutReplicationAsync(primary, replicaPort);

            // Granted by the primary alone: the write never reaches the replica.
            for (var i = 0; i < 5; i++)
            {
                var taken = (await store.TryAcquireAsync(key, LongTtl))!;
                issued.Add(taken.FencingToken);
                (await store.ReleaseAsync(taken)).Should().BeTrue();
            }

            var held = (await store.TryAcquireAsync(key, LongTtl))!;
            issued.Add(held.FencingToken);
            var leases = await Task.WhenAll(keys.Select(k => store.TryAcquireAsync(k, LongTtl).AsTask()));
            leases.Should().NotContainNulls();

            // With WaitForReplicas the same grant is refused instead (and given back).
            var waiting = new RedisLeaseStore(redis, new RedisLeasingOptions { KeyPrefix = RedisLeaseBackend.KeyPrefix, WaitForReplicas = 1, CommandTimeout = TimeSpan.FromMilliseconds(300) });
            await FluentActions.Awaiting(() => waiting.TryAcquireAsync(NamesOn(primaryPort, store.SingleKeyNameOf, 1, "wait")[0], LongTtl).AsTask()).Should().ThrowAsync<LeaseStoreUnavailableException>();
            await ClusterNodes.KillAsync(node);

            await ClusterNodes.UntilAsync(() => ClusterNodes.IsPrimaryAsync(replicaPort), "the replica was promoted", TimeSpan.FromSeconds(30));
            IReadOnlyList<LeaseState>? states = null;
            await ClusterNodes.UntilAsync(
                async () =>
                {
                    try
                    {
                        states = await store.InspectAsync([key, .. keys]);
                        return true;
                    }
                    catch (LeaseStoreUnavailableException)
                    {
                        return false;
                    }
                },
                "the promoted replica answers",
                TimeSpan.FromSeconds(30));

            var lost = states!.Count(s => s.Status != LeaseStatus.Held);
            var successor = await other.TryAcquireAsync(key, LongTtl);
            output.WriteLine($"unreplicated grants: {lost} of {Count + 1} leases lost with the primary; the lost holder's fencing token {held.FencingToken}, its successor's {successor?.FencingToken}; highest token issued before the failover {issued.Max()}");
            lost.Should().Be(Count + 1, "the promoted replica never received these grants");
            successor.Should().NotBeNull("the lost lease is free on the promoted replica: a second owner gets it");
            successor!.FencingToken.Should().BeGreaterThan(issued.Max(), "the clock term of the fencing token carries it past every token the dead primary issued, replicated or not");
            (await store.RenewAsync(held, LongTtl)).Should().BeNull("the first owner's renewal finds the lease lost");
            (await other.ReleaseAsync(successor)).Should().BeTrue();
        }
        finally
        {
            await ClusterNodes.RestartAsync(node);
            await ClusterNodes.WaitHealthyAsync();
        }
    }

    [Fact]
    public async Task PrimaryKilledRightAfterManyAcquires_WithWaitForReplicasEveryGrantedLeaseSurvives()
    {
        const int Count = 500;
        var (withoutHeld, withoutWindow) = await KillRightAfterAcquiresAsync(Count, waitForReplicas: 0);
        var (withHeld, withWindow) = await KillRightAfterAcquiresAsync(Count, waitForReplicas: 1);

        output.WriteLine($"WaitForReplicas = 0: {withoutHeld} of {Count} leases still held after the kill ({Count - withoutHeld} lost); calls failed for {withoutWindow.TotalSeconds:0.00} s");
        output.WriteLine($"WaitForReplicas = 1: {withHeld} of {Count} leases still held after the kill ({Count - withHeld} lost); calls failed for {withWindow.TotalSeconds:0.00} s");
        withHeld.Should().Be(Count, "a lease whose acquire returned was confirmed by the replica that took over");
        withoutWindow.Should().BeLessThan(WindowLimit);
        withWindow.Should().BeLessThan(WindowLimit);
    }

    [Fact]
    public async Task WaitForReplicas_ReplicaDoesNotConfirm_AcquireFailsAndGivesTheLeaseBack()
    {
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { KeyPrefix = RedisLeaseBackend.KeyPrefix, WaitForReplicas = 1, CommandTimeout = TimeSpan.FromMilliseconds(500) });
        var key = Unique.Name();
        var primaryPort = ClusterNodes.PortOf(redis.GetServer((RedisKey)store.SingleKeyNameOf(key)));
        var replica = await ClusterNodes.ProcessOfAsync(await ClusterNodes.ReplicaOfAsync(primaryPort));
        (await store.ReleaseAsync((await store.TryAcquireAsync(Unique.Name(), LongTtl))!)).Should().BeTrue("with the replica up, WAIT confirms at once");

        await ClusterNodes.SignalAsync(replica, stop: true);
        try
        {
            // Stopped for less than the node timeout: the cluster stays ok, only the replica is silent.
            var thrown = await FluentActions.Awaiting(() => store.TryAcquireAsync(key, LongTtl).AsTask()).Should().ThrowAsync<LeaseStoreUnavailableException>();
            output.WriteLine($"replica stopped: {thrown.Which.Message}");
        }
        finally
        {
            await ClusterNodes.SignalAsync(replica, stop: false);
        }

        var other = Store(redis);
        var next = await other.TryAcquireAsync(key, LongTtl);
        next.Should().NotBeNull("the unconfirmed lease was given back, not left to expire");
        (await other.ReleaseAsync(next!)).Should().BeTrue();
        await ClusterNodes.WaitHealthyAsync();
    }

    // Acquires Count keys that all live on one primary, kills it with SIGKILL at once, and counts
    // how many of the granted leases the promoted replica still holds.
    private async Task<(int Held, TimeSpan Window)> KillRightAfterAcquiresAsync(int count, int waitForReplicas)
    {
        await ClusterNodes.WaitHealthyAsync();
        await using var connection = await ClusterConnection.ConnectAsync();
        await ClusterConnection.LoadScriptsAsync(connection);
        var store = new RedisLeaseStore(connection, new RedisLeasingOptions { KeyPrefix = RedisLeaseBackend.KeyPrefix, WaitForReplicas = waitForReplicas, CommandTimeout = TimeSpan.FromSeconds(2) });
        var primaryPort = ClusterNodes.PortOf(ClusterConnection.Primaries(connection)[0]);
        var replicaPort = await ClusterNodes.ReplicaOfAsync(primaryPort);
        var keys = NamesOn(connection, primaryPort, store.SingleKeyNameOf, count, $"wait{waitForReplicas}");
        var node = await ClusterNodes.ProcessOfAsync(primaryPort);
        try
        {
            var leases = await Task.WhenAll(keys.Select(k => store.TryAcquireAsync(k, LongTtl).AsTask()));
            await ClusterNodes.KillAsync(node);
            leases.Should().NotContainNulls("every key was free");

            var clock = Stopwatch.StartNew();
            var failedFor = TimeSpan.Zero;
            IReadOnlyList<LeaseState>? states = null;
            await ClusterNodes.UntilAsync(() => ClusterNodes.IsPrimaryAsync(replicaPort), "the replica was promoted", TimeSpan.FromSeconds(30));
            await ClusterNodes.UntilAsync(
                async () =>
                {
                    try
                    {
                        states = await store.InspectAsync(keys);
                        failedFor = clock.Elapsed;
                        return true;
                    }
                    catch (LeaseStoreUnavailableException)
                    {
                        return false;
                    }
                },
                "the promoted replica answers",
                TimeSpan.FromSeconds(30));
            return (states!.Count(s => s.Status == LeaseStatus.Held), failedFor);
        }
        finally
        {
            await ClusterNodes.RestartAsync(node);
            await ClusterNodes.WaitHealthyAsync();
        }
    }

    private static RedisLeaseStore Store(IConnectionMultiplexer redis) =>
        new(redis, new RedisLeasingOptions { KeyPrefix = RedisLeaseBackend.KeyPrefix, CommandTimeout = TimeSpan.FromSeconds(1) });

    // Waits for a few successful calls in a row after the failover, so the window is closed for good.
    private static async Task SucceedsAgainAsync(ErrorWindow window)
    {
        var seen = window.Successes;
        await ClusterNodes.UntilAsync(() => Task.FromResult(window.Successes >= seen + 5 && !window.IsOpen), "calls succeed again", TimeSpan.FromSeconds(30));
    }

    private string[] NamesOn(int primaryPort, Func<string, string> redisName, int count, string suffix) => NamesOn(redis, primaryPort, redisName, count, suffix);

    // Unique names whose Redis keys live on the primary on primaryPort.
    private static string[] NamesOn(IConnectionMultiplexer connection, int primaryPort, Func<string, string> redisName, int count, string suffix)
    {
        var names = new List<string>(count);
        while (names.Count < count)
        {
            var name = Unique.Name(suffix);
            if (ClusterNodes.PortOf(connection.GetServer((RedisKey)redisName(name))) == primaryPort)
            {
                names.Add(name);
            }
        }

        return [.. names];
    }

    private void Report(string what, TimeSpan promoted, ErrorWindow window) =>
        output.WriteLine($"{what}: replica primary after {promoted.TotalSeconds:0.00} s; longest window of failing calls {window.Longest.TotalSeconds:0.00} s ({window.Failures} failed, {window.Successes} succeeded, {window.Refusals} found the lease lost)");
}
