using FluentAssertions;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>
/// Group commit of a pool's LRU acquires and releases in one process: while one call is in flight, later
/// callers queue and go out together in one script. A paused private server holds the first call in
/// flight, so the queue forms for certain; the server's command statistics count the scripts.
/// </summary>
public sealed class GroupCommitTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    private PrivateRedisServer server = null!;
    private ConnectionMultiplexer redis = null!;

    public async Task InitializeAsync()
    {
        server = await PrivateRedisServer.StartAsync();
        redis = await server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        server.Resume();
        await redis.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task QueuedAcquires_OneScriptForAll_DistinctMembersInLruAndArrivalOrder()
    {
        var store = new RedisLeaseStore(redis);
        var pool = await PoolAsync(store, 100);
        await WarmUpAsync(store);

        // A least-recently-used order unlike the names': each member taken by name in a shuffled order, then freed.
        var order = Enumerable.Range(0, 100).Select(i => $"m{i:00}").OrderBy(_ => Random.Shared.Next()).ToArray();
        foreach (var member in order)
        {
            (await store.ReleaseAsync((await store.TryAcquirePoolMemberAsync(pool, member, Ttl))!)).Should().BeTrue();
        }

        await Server.ExecuteAsync("CONFIG", "RESETSTAT");
        Task<Lease?>[] calls;
        server.Pause();
        try
        {
            calls = [.. Enumerable.Range(0, 21).Select(_ => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask())];
        }
        finally
        {
            server.Resume();
        }

        var leases = (await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30))).Select(l => l!).ToArray();
        leases.Select(l => l.Key).Should().Equal(order.Take(21), "the least recently acquired members, to the callers in arrival order");
        leases.Select(l => l.FencingToken).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        (await ScriptRunsAsync()).Should().Be(2, "the first call, then one script for the 20 callers queued behind it");
    }

    [Fact]
    public async Task QueuedReleases_OneScript_EachAnsweredForItsOwnLease()
    {
        var store = new RedisLeaseStore(redis);
        var pool = await PoolAsync(store, 10);
        await WarmUpAsync(store);
        var leases = new List<Lease>();
        for (var i = 0; i < 10; i++)
        {
            leases.Add((await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl))!);
        }

        await Server.ExecuteAsync("CONFIG", "RESETSTAT");
        Task<bool>[] calls;
        server.Pause();
        try
        {
            // Queued behind the first: the other nine, the fifth once more, and the third with a stale token.
            calls =
            [
                .. leases.Select(l => store.ReleaseAsync(l).AsTask()),
                store.ReleaseAsync(leases[4]).AsTask(),
                store.ReleaseAsync(leases[2] with { Token = "0123456789abcdef0123456789abcdef" }).AsTask(),
            ];
        }
        finally
        {
            server.Resume();
        }

        var released = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        released.Should().Equal([.. Enumerable.Repeat(true, 10), false, false], "each release is a compare-and-set on its own token; a member freed earlier in the batch is no longer held");
        (await ScriptRunsAsync()).Should().Be(2);
        (await store.InspectPoolAsync(pool)).Should().OnlyContain(s => s.Status == LeaseStatus.Free);
        (await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl))!.Key.Should().Be("m00", "released members go back to their LRU position");
    }

    [Fact]
    public async Task QueuedAcquire_CancelledBeforeItsBatchIsSent_ClaimsNothing()
    {
        var store = new RedisLeaseStore(redis);
        var pool = await PoolAsync(store, 5);
        await WarmUpAsync(store);
        await Server.ExecuteAsync("CONFIG", "RESETSTAT");
        using var cancel = new CancellationTokenSource();
        Task<Lease?> first, queued;
        server.Pause();
        try
        {
            first = store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask();
            queued = store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, cancel.Token).AsTask();
            await cancel.CancelAsync();
            await queued.Awaiting(t => t).Should().ThrowAsync<OperationCanceledException>();
        }
        finally
        {
            server.Resume();
        }

        (await first.WaitAsync(TimeSpan.FromSeconds(30))).Should().NotBeNull();
        (await ScriptRunsAsync()).Should().Be(1, "nothing was sent for the caller that left the queue");
        (await store.InspectPoolAsync(pool)).Count(s => s.Status == LeaseStatus.Held).Should().Be(1);
    }

    [Fact]
    public async Task QueuedAcquire_ServerStalled_FailsWithinTwoCommandTimeouts()
    {
        // The call in flight, then the queued caller's own: each bounded by the command timeout.
        var timeout = TimeSpan.FromMilliseconds(500);
        var store = new RedisLeaseStore(redis, new RedisLeasingOptions { CommandTimeout = timeout });
        var pool = await PoolAsync(store, 5);
        await WarmUpAsync(store);
        server.Pause();
        try
        {
            var first = store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var queued = store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask();
            await first.Awaiting(t => t).Should().ThrowAsync<LeaseStoreUnavailableException>();
            await queued.Awaiting(t => t).Should().ThrowAsync<LeaseStoreUnavailableException>().WithMessage("*did not answer an acquire within 500 ms*");
            clock.Elapsed.Should().BeGreaterThanOrEqualTo(timeout * 1.9).And.BeLessThan(timeout * 2.8);
        }
        finally
        {
            server.Resume();
        }
    }

    [Fact]
    public async Task QueuedAcquires_FullBatch_GoesOutBesideTheCallInFlight()
    {
        var store = new RedisLeaseStore(redis);
        var pool = await PoolAsync(store, 100);
        await WarmUpAsync(store);
        Task<Lease?>[] calls;
        long sent;
        server.Pause();
        try
        {
            var before = redis.GetCounters().Interactive.OperationCount;
            calls = [.. Enumerable.Range(0, 1 + 64).Select(_ => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask())];
            sent = redis.GetCounters().Interactive.OperationCount - before;
        }
        finally
        {
            server.Resume();
        }

        sent.Should().Be(2, "the first call, and the 64 queued behind it as soon as they filled a batch, while the first was still unanswered");
        (await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30))).Select(l => l!.Key).Should().OnlyHaveUniqueItems().And.HaveCount(65);
    }

    [Fact]
    public async Task QueuedAcquires_ManyExpiredHolds_AllTakenBack_ThenNoneFree()
    {
        // 40 expired holds, none taken back yet: the first call takes back 16; the batch behind it takes back the rest in rounds of 16
        // (as 40 single calls would one after another), and the caller beyond the pool's size gets none.
        var store = new RedisLeaseStore(redis);
        var pool = await PoolAsync(store, 40);
        await WarmUpAsync(store);
        for (var i = 0; i < 40; i++)
        {
            // Long enough that none ends (and is taken back) while the others are still being acquired.
            (await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMilliseconds(300))).Should().NotBeNull();
        }

        await Eventually.TrueAsync(
            () => store.InspectPoolAsync(pool).AsTask().GetAwaiter().GetResult().All(s => s.Status == LeaseStatus.Free),
            "the holds' leases ended on the server's clock", TimeSpan.FromSeconds(10));
        Task<Lease?>[] calls;
        server.Pause();
        try
        {
            calls = [.. Enumerable.Range(0, 41).Select(_ => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask())];
        }
        finally
        {
            server.Resume();
        }

        var leases = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(30));
        leases.Take(40).Should().OnlyContain(l => l != null);
        leases.Take(40).Select(l => l!.Key).Should().OnlyHaveUniqueItems();
        leases[40].Should().BeNull("every member is held");
    }

    [Fact]
    public async Task QueuedAcquire_CallerLeavesAfterItsBatchWasSent_TheLateGrantIsGivenBack()
    {
        var store = new RedisLeaseStore(redis);
        var pool = await PoolAsync(store, 5);
        await WarmUpAsync(store);
        using var leaveFirst = new CancellationTokenSource();
        using var leaveQueued = new CancellationTokenSource();
        server.Pause();
        try
        {
            // The first caller leaves at once, so the queued one's script is sent (into the stalled server);
            // then the queued caller leaves too.
            var first = store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, leaveFirst.Token).AsTask();
            var queued = store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, leaveQueued.Token).AsTask();
            await leaveFirst.CancelAsync();
            await first.Awaiting(t => t).Should().ThrowAsync<OperationCanceledException>();
            await leaveQueued.CancelAsync();
            await queued.Awaiting(t => t).Should().ThrowAsync<OperationCanceledException>();
        }
        finally
        {
            server.Resume();
        }

        // Both scripts run once the server wakes. The first caller's grant stays held until its lease ends, as
        // for any single call abandoned in flight; the queued caller's is released as soon as it lands.
        await Eventually.TrueAsync(
            () => store.InspectPoolAsync(pool).AsTask().GetAwaiter().GetResult().Count(s => s.Status == LeaseStatus.Held) == 1,
            "the queued caller's late grant was released",
            TimeSpan.FromSeconds(10));
        (await store.InspectPoolAsync(pool)).Count(s => s.Status == LeaseStatus.Free).Should().Be(4);
    }

    private IServer Server => redis.GetServer(redis.GetEndPoints()[0]);

    private static async Task<string> PoolAsync(RedisLeaseStore store, int members)
    {
        var pool = Unique.Name("pool");
        await store.SetPoolMembersAsync(pool, [.. Enumerable.Range(0, members).Select(i => $"m{i:00}")]);
        return pool;
    }

    // Loads both scripts of each kind on the server, on another pool, so that the counted calls are EVALSHA only.
    private async Task WarmUpAsync(RedisLeaseStore store)
    {
        var warm = await PoolAsync(store, 4);
        server.Pause();
        Task<Lease?>[] acquires;
        try
        {
            acquires = [.. Enumerable.Range(0, 3).Select(_ => store.TryAcquireLeastRecentlyUsedAsync(warm, Ttl).AsTask())];
        }
        finally
        {
            server.Resume();
        }

        var leases = await Task.WhenAll(acquires);
        server.Pause();
        Task<bool>[] releases;
        try
        {
            releases = [.. leases.Select(l => store.ReleaseAsync(l!).AsTask())];
        }
        finally
        {
            server.Resume();
        }

        (await Task.WhenAll(releases)).Should().AllBeEquivalentTo(true);
    }

    private Task<long> ScriptRunsAsync() => CommandStats.ScriptRunsAsync(Server);
}
