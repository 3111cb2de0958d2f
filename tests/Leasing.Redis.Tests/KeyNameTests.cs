using FluentAssertions;
using Leasing.Redis.Internal;
using Leasing.Redis.Tests.Support;
using Leasing.Testing;
using Xunit;

namespace Leasing.Redis.Tests;

/// <summary>Key names: one cluster slot per pool, escaped ids that cannot move slots or collide.</summary>
public sealed class KeyNameTests
{
    public static TheoryData<string> AwkwardIds => new() { "{x}", "a*", "b:c", "}{", "%7B", "[ab]?", "\\", "plain", "ünï €" };

    [Theory]
    [MemberData(nameof(AwkwardIds))]
    public async Task PoolKeys_AllInOneSlot_WhateverThePoolName(string pool)
    {
        var redis = await RedisLeaseBackend.SharedConnectionAsync();
        var store = new RedisLeaseStore(redis);

        var names = store.PoolKeyNamesOf(pool);
        string[] keys = [names.Meta, names.Queue, names.Members, names.Channel];

        keys.Select(ClusterSlot.Of).Distinct().Should().ContainSingle($"all keys of pool {pool} share one hash tag");
        keys.Should().AllSatisfy(k => k.Should().StartWith("leasing:v2:{pool:"));
        keys.Select(k => k[(k.IndexOf('{', StringComparison.Ordinal) + 1)..k.IndexOf('}', StringComparison.Ordinal)]).Distinct()
            .Should().Equal($"pool:{RedisKeyNames.Escape(pool)}");
    }

    [Fact]
    public void Escape_SpecialCharacters_LeaveNoneAndNeverCollide()
    {
        string[] ids = ["{x}", "%7Bx%7D", "a*", "a%2A", "b:c", "b%3Ac", "[", "]", "?", "\\", "%", "%25", "plain"];

        var escaped = ids.Select(RedisKeyNames.Escape).ToList();

        escaped.Should().OnlyHaveUniqueItems("escaping is one to one");
        escaped.Should().AllSatisfy(e => e.Should().NotContainAny("{", "}", "*", "?", "[", "]", ":", "\\"));
        RedisKeyNames.Escape("plain").Should().Be("plain");
        RedisKeyNames.Escape("{x}").Should().Be("%7Bx%7D");
    }

    [Fact]
    public async Task SingleKeys_AwkwardIds_CannotPickTheirSlot()
    {
        var redis = await RedisLeaseBackend.SharedConnectionAsync();
        var store = new RedisLeaseStore(redis);

        // "{x}" would pin the slot of "x" if it were written raw; escaped, the whole name is hashed.
        var name = store.SingleKeyNameOf("{x}");
        name.Should().Be("leasing:v1:key:%7Bx%7D");
        ClusterSlot.Of(name).Should().NotBe(ClusterSlot.Of("x"));
        ClusterSlot.Of("leasing:v1:key:{x}").Should().Be(ClusterSlot.Of("x"), "(the check itself: a raw tag would pin the slot)");
    }

    [Fact]
    public async Task AwkwardPoolAndMemberIds_WorkEndToEnd()
    {
        var backend = await RedisLeaseBackend.CreateAsync();
        var store = backend.CreateStore();
        var pool = "{x}:" + Unique.Name("a*[b]?");
        string[] members = ["{x}", "a*", "b:c", "%7Bx%7D"];
        await store.SetPoolMembersAsync(pool, members);

        var leases = new List<Lease>();
        for (var i = 0; i < members.Length; i++)
        {
            leases.Add((await store.TryAcquireLeastRecentlyUsedAsync(pool, TimeSpan.FromMinutes(1)))!);
        }

        leases.Select(l => l.Key).Should().BeEquivalentTo(members);
        (await store.TryAcquirePoolMemberAsync(pool, "{x}", TimeSpan.FromMinutes(1))).Should().BeNull("it is held");
        (await store.InspectPoolAsync(pool)).Should().OnlyContain(s => s.Status == LeaseStatus.Held);
        foreach (var lease in leases)
        {
            (await store.ReleaseAsync(lease)).Should().BeTrue();
        }

        (await store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(members);
        (await store.TryAcquireAsync(pool, TimeSpan.FromMinutes(1))).Should().NotBeNull("a single key named like the pool is separate");
    }
}
