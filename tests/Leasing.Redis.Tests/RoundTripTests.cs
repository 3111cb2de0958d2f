using FluentAssertions;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using StackExchange.Redis;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>
/// Each pool operation is one top-level command from the client (one EVALSHA), whatever the pool
/// size: counted by the multiplexer and by the server's command statistics, on a private server
/// that nothing else talks to.
/// </summary>
public sealed class RoundTripTests : IAsyncLifetime
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
        await redis.DisposeAsync();
        await server.DisposeAsync();
    }

    [Theory]
    [InlineData(10)]
    [InlineData(20_000)]
    public async Task PoolOperations_OneCommandEach_WhateverThePoolSize(int size)
    {
        var store = new RedisLeaseStore(redis);
        var pool = Unique.Name("pool");
        await store.SetPoolMembersAsync(pool, Enumerable.Range(0, size).Select(i => $"ch-{i}").ToArray());
        for (var i = 0; i < size / 2; i++)
        {
            // Half the pool held, half of it by leases that have expired: acquire takes those back.
            await store.TryAcquireLeastRecentlyUsedAsync(pool, i % 2 == 0 ? Ttl : TimeSpan.FromMilliseconds(1));
        }

        await WarmUpAsync(store, pool);

        var (lease, acquire) = await CountAsync(() => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl).AsTask());
        lease.Should().NotBeNull();
        var (renewed, renew) = await CountAsync(() => store.RenewAsync(lease!, Ttl).AsTask());
        renewed.Should().NotBeNull();
        var (released, release) = await CountAsync(() => store.ReleaseAsync(renewed!).AsTask());
        released.Should().BeTrue();
        var (named, acquireNamed) = await CountAsync(() => store.TryAcquirePoolMemberAsync(pool, lease!.Key, Ttl).AsTask());
        named.Should().NotBeNull();
        var (cooled, cooldown) = await CountAsync(() => store.ReleaseWithCooldownAsync(named!, Ttl).AsTask());
        cooled.Should().BeTrue();
        var handed = await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl);
        var (next, handOff) = await CountAsync(() => store.ReleaseAndAcquireLeastRecentlyUsedAsync(handed!, Ttl, 0).AsTask());
        next.Acquired.Should().NotBeNull();

        foreach (var (name, count) in new[] { ("acquire", acquire), ("renew", renew), ("release", release), ("named acquire", acquireNamed), ("cooldown", cooldown), ("release and acquire", handOff) })
        {
            count.Should().Be(new Commands(1, 1), $"a pool {name} is one EVALSHA on a pool of {size}");
        }
    }

    [Fact]
    public async Task VersionedPoolAcquires_OneCommandEach_AlsoWhenTheListIsOutdatedOrUnknown()
    {
        var store = new RedisLeaseStore(redis);
        var pool = Unique.Name("pool");
        await WarmUpAsync(store, pool);
        await store.SetPoolMembersAsync(pool, ["a", "b"], version: 2);

        var (lease, acquire) = await CountAsync(() => store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, membersVersion: 2).AsTask());
        var (named, acquireNamed) = await CountAsync(() => store.TryAcquirePoolMemberAsync(pool, "b", Ttl, membersVersion: 2).AsTask());
        var (outdated, outdatedCount) = await CountAsync(() => CatchOutdatedAsync(store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, membersVersion: 3)));
        var (unknown, unknownCount) = await CountAsync(() => CatchOutdatedAsync(store.TryAcquirePoolMemberAsync(Unique.Name("pool"), "a", Ttl, membersVersion: 0)));

        lease.Should().NotBeNull();
        named.Should().NotBeNull();
        outdated!.StoredVersion.Should().Be(2);
        unknown!.StoredVersion.Should().BeNull();
        new[] { acquire, acquireNamed, outdatedCount, unknownCount }.Should().AllBeEquivalentTo(new Commands(1, 1), "the version is checked inside the acquire script");
    }

    [Fact]
    public async Task SingleKeyOperations_OneCommandEach()
    {
        var store = new RedisLeaseStore(redis);
        var key = Unique.Name();
        await WarmUpAsync(store, Unique.Name("pool"));

        var (lease, acquire) = await CountAsync(() => store.TryAcquireAsync(key, Ttl).AsTask());
        var (renewed, renew) = await CountAsync(() => store.RenewAsync(lease!, Ttl).AsTask());
        var (_, release) = await CountAsync(() => store.ReleaseAsync(renewed!).AsTask());
        var (_, inspect) = await CountAsync(() => store.InspectAsync([key, Unique.Name(), Unique.Name()]).AsTask());

        new[] { acquire, renew, release, inspect }.Should().AllBeEquivalentTo(new Commands(1, 1));
    }

    [Fact]
    public async Task StateOperations_OneCommandEach_ForKeysAndPoolMembers()
    {
        var store = new RedisLeaseStore(redis);
        var pool = Unique.Name("pool");
        var key = Unique.Name();
        await WarmUpAsync(store, pool);
        await store.SetPoolMembersAsync(pool, ["a", "b"]);
        var member = await store.TryAcquirePoolMemberAsync(pool, "a", Ttl);
        var single = await store.TryAcquireAsync(key, Ttl);
        await store.WriteStateAsync(member!, new byte[] { 1 });
        await store.WriteStateAsync(single!, new byte[] { 1 });
        await store.ReadStateAsync("a", pool);
        await store.ReadStateAsync(key);

        var (_, writeMember) = await CountAsync(() => store.WriteStateAsync(member!, new byte[] { 2 }).AsTask());
        var (_, writeKey) = await CountAsync(() => store.WriteStateAsync(single!, new byte[] { 2 }).AsTask());
        var (readMember, readMemberCount) = await CountAsync(() => store.ReadStateAsync("a", pool).AsTask());
        var (readKey, readKeyCount) = await CountAsync(() => store.ReadStateAsync(key).AsTask());

        readMember!.Data.ToArray().Should().Equal(2);
        readKey!.Data.ToArray().Should().Equal(2);
        new[] { writeMember, writeKey }.Should().AllBeEquivalentTo(new Commands(1, 1), "a state write is one EVALSHA");
        new[] { readMemberCount, readKeyCount }.Should().AllBeEquivalentTo(new Commands(1, 0), "a state read is one HMGET");
    }

    [Fact]
    public async Task IdempotencyOperations_OneCommandEach()
    {
        var store = new RedisIdempotencyStore(redis);
        var warm = await store.TryClaimAsync(Unique.Name(), "fp", Ttl);
        await store.HeartbeatAsync(warm.Existing!.Key, warm.OwnerToken!, Ttl);
        await store.CompleteAsync(warm.Existing.Key, warm.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), Ttl);
        var warmRelease = await store.TryClaimAsync(Unique.Name(), "fp", Ttl);
        await store.ReleaseAsync(warmRelease.Existing!.Key, warmRelease.OwnerToken!);
        var key = Unique.Name();

        var (claim, claimed) = await CountAsync(() => store.TryClaimAsync(key, "fp", Ttl).AsTask());
        var (_, heartbeat) = await CountAsync(() => store.HeartbeatAsync(key, claim.OwnerToken!, Ttl).AsTask());
        var (_, duplicate) = await CountAsync(() => store.TryClaimAsync(key, "fp", Ttl).AsTask());
        var (_, complete) = await CountAsync(() => store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), Ttl).AsTask());
        var (replay, replayed) = await CountAsync(() => store.TryClaimAsync(key, "fp", Ttl).AsTask());
        var other = Unique.Name();
        var second = await store.TryClaimAsync(other, "fp", Ttl);
        var (_, release) = await CountAsync(() => store.ReleaseAsync(other, second.OwnerToken!).AsTask());

        replay.Outcome.Should().Be(ClaimOutcome.Completed);
        new[] { claimed, heartbeat, duplicate, complete, replayed, release }.Should().AllBeEquivalentTo(new Commands(1, 1));
    }

    [Fact]
    public async Task FirstCallAfterScriptCacheFlush_ReloadsTheScriptOnceThenOneCommandAgain()
    {
        var store = new RedisLeaseStore(redis);
        var key = Unique.Name();
        await WarmUpAsync(store, Unique.Name("pool"));
        await Server.ExecuteAsync("SCRIPT", "FLUSH");

        var (first, reload) = await CountAsync(() => store.TryAcquireAsync(key, Ttl).AsTask());
        var (_, after) = await CountAsync(() => store.TryAcquireAsync(Unique.Name(), Ttl).AsTask());

        first.Should().NotBeNull();
        reload.Should().Be(new Commands(2, 2), "the EVALSHA the server rejected (NOSCRIPT), then one EVAL that runs and loads the script");
        after.Should().Be(new Commands(1, 1));
    }

    private IServer Server => redis.GetServer(redis.GetEndPoints()[0]);

    // Runs every script once so that the counted calls are not the ones that load scripts.
    private static async Task WarmUpAsync(RedisLeaseStore store, string pool)
    {
        await store.SetPoolMembersAsync(pool, ["warm-a", "warm-b"], version: long.MinValue + 1);
        var lease = await store.TryAcquirePoolMemberAsync(pool, "warm-a", Ttl) ?? await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl);
        lease = await store.RenewAsync(lease!, Ttl);
        await store.ReleaseAsync(lease!);
        lease = await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl);
        lease = (await store.ReleaseAndAcquireLeastRecentlyUsedAsync(lease!, Ttl, 0)).Acquired ?? await store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl);
        await store.ReleaseWithCooldownAsync(lease!, TimeSpan.FromMilliseconds(1));
        var single = await store.TryAcquireAsync(Unique.Name(), Ttl);
        single = await store.RenewAsync(single!, Ttl);
        await store.ReleaseAsync(single!);
        await store.InspectAsync([single!.Key]);
    }

    private static async Task<PoolMembersOutdatedException?> CatchOutdatedAsync(ValueTask<Lease?> acquire)
    {
        try
        {
            await acquire;
            return null;
        }
        catch (PoolMembersOutdatedException e)
        {
            return e;
        }
    }

    private async Task<(T Result, Commands Count)> CountAsync<T>(Func<Task<T>> call)
    {
        await Server.ExecuteAsync("CONFIG", "RESETSTAT");
        var before = redis.GetCounters().Interactive.OperationCount;
        var result = await call();
        var operations = redis.GetCounters().Interactive.OperationCount - before;
        return (result, new Commands(operations, await CommandStats.ScriptRunsAsync(Server)));
    }

    /// <summary>Top-level commands the client sent, and script runs the server counted.</summary>
    private sealed record Commands(long Sent, long ScriptRuns);
}
