using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Pool membership: versions, removal while held, re-adding, large pools.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task GetPoolMembersAsync_AfterSet_ReturnsTheMembers()
    {
        var pool = Unique.Name("pool");
        string[] members = ["b", "a", "c"];

        await Store.SetPoolMembersAsync(pool, members);

        (await Store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(members);
        (await Backend.CreateStore().GetPoolMembersAsync(pool)).Should().BeEquivalentTo(members);
    }

    [Fact]
    public async Task GetPoolMembersAsync_UnknownPool_ReturnsEmpty()
    {
        (await Store.GetPoolMembersAsync(Unique.Name("pool"))).Should().BeEmpty();
    }

    [Fact]
    public async Task SetPoolMembersAsync_Versions_OlderIgnoredEqualAndNewerApplied()
    {
        var pool = Unique.Name("pool");
        await Store.SetPoolMembersAsync(pool, ["a", "b"], version: 5);

        await Store.SetPoolMembersAsync(pool, ["old"], version: 4);
        (await Store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(["a", "b"], "an older list never reverts a newer one");

        await Store.SetPoolMembersAsync(pool, ["same"], version: 5);
        (await Store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(["same"], "an equal version: last writer wins");

        await Store.SetPoolMembersAsync(pool, ["new1", "new2"], version: 6);
        (await Store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(["new1", "new2"]);
        (await Store.TryAcquirePoolMemberAsync(pool, "a", Ttl)).Should().BeNull("a is no longer a member");
    }

    [Fact]
    public async Task SetPoolMembersAsync_DefaultVersion_LastWriterWins()
    {
        var pool = Unique.Name("pool");
        await Store.SetPoolMembersAsync(pool, ["a"]);

        await Backend.CreateStore().SetPoolMembersAsync(pool, ["b"]);

        (await Store.GetPoolMembersAsync(pool)).Should().BeEquivalentTo(["b"]);
    }

    [Fact]
    public async Task SetPoolMembersAsync_RemovedMember_NeverHandedOutButItsHolderCanRenewAndRelease()
    {
        var pool = Unique.Name("pool");
        await Store.SetPoolMembersAsync(pool, ["a", "b"], version: 1);
        var heldA = await AcquireMemberAsync(pool, "a", LongTtl);

        await Store.SetPoolMembersAsync(pool, ["b"], version: 2);

        (await Store.InspectPoolAsync(pool)).Select(s => s.Key).Should().Equal("b");
        var renewed = await Store.RenewAsync(heldA, LongTtl);
        renewed.Should().NotBeNull("the holder of a removed member can still renew it");
        (await Store.ReleaseAsync(renewed!)).Should().BeTrue("and release it");
        for (var i = 0; i < 3; i++)
        {
            var lease = await AcquireLruAsync(pool, Ttl);
            lease.Key.Should().Be("b", "a removed member is never handed out again, also after its release");
            (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();
            (await Store.ReleaseAsync(lease)).Should().BeTrue();
        }

        (await Store.TryAcquirePoolMemberAsync(pool, "a", Ttl)).Should().BeNull("not a member any more");
    }

    [Fact]
    public async Task SetPoolMembersAsync_RemovedMemberHolderExpired_MemberIsNotHandedOutAgain()
    {
        var pool = Unique.Name("pool");
        await Store.SetPoolMembersAsync(pool, ["a", "b"], version: 1);
        var heldA = await AcquireMemberAsync(pool, "a", Ttl);
        await Store.SetPoolMembersAsync(pool, ["b"], version: 2);

        await ExpireAsync();

        (await AcquireLruAsync(pool, LongTtl)).Key.Should().Be("b");
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull("the expired removed member stays out");
        (await Store.RenewAsync(heldA, Ttl)).Should().BeNull();
    }

    [Fact]
    public async Task SetPoolMembersAsync_ReaddedMember_ContinuesItsFencingCounter()
    {
        var pool = Unique.Name("pool");
        await Store.SetPoolMembersAsync(pool, ["a", "b"], version: 1);
        var before = await AcquireMemberAsync(pool, "a", Ttl);
        (await Store.ReleaseAsync(before)).Should().BeTrue();
        await Store.SetPoolMembersAsync(pool, ["b"], version: 2);

        await Store.SetPoolMembersAsync(pool, ["a", "b"], version: 3);

        (await InspectMemberAsync(pool, "a")).FencingToken.Should().Be(before.FencingToken, "a removed member keeps its counter");
        (await AcquireMemberAsync(pool, "a", Ttl)).FencingToken.Should().BeGreaterThan(before.FencingToken);
    }

    [Fact]
    public async Task SetPoolMembersAsync_MemberReaddedWhileHeld_HolderKeepsItAndReleaseReturnsIt()
    {
        var pool = Unique.Name("pool");
        await Store.SetPoolMembersAsync(pool, ["a"], version: 1);
        var held = await AcquireMemberAsync(pool, "a", LongTtl);
        await Store.SetPoolMembersAsync(pool, ["b"], version: 2);
        await Store.SetPoolMembersAsync(pool, ["a", "b"], version: 3);

        (await AcquireLruAsync(pool, LongTtl)).Key.Should().Be("b", "a is still held");
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();
        (await Store.ReleaseAsync(held)).Should().BeTrue();

        (await AcquireLruAsync(pool, Ttl)).Key.Should().Be("a", "a released current member is handed out again");
    }

    [Fact]
    public async Task SetPoolMembersAsync_TenThousandMembersInOneCall_AllUsable()
    {
        var pool = Unique.Name("pool");
        var members = Enumerable.Range(0, 10_000).Select(i => $"channel-{i}").ToArray();

        await Store.SetPoolMembersAsync(pool, members);

        (await Store.GetPoolMembersAsync(pool)).Order(StringComparer.Ordinal).Should().Equal(members.Order(StringComparer.Ordinal));
        var leases = new List<Lease>();
        for (var i = 0; i < 50; i++)
        {
            leases.Add(await AcquireLruAsync(pool, LongTtl));
        }

        leases.Select(l => l.Key).Should().OnlyHaveUniqueItems();
        var named = members.Except(leases.Select(l => l.Key)).Last();
        (await AcquireMemberAsync(pool, named, LongTtl)).Key.Should().Be(named);
        var states = await Store.InspectPoolAsync(pool);
        states.Should().HaveCount(members.Length);
        states.Count(s => s.Status == LeaseStatus.Held).Should().Be(51);
    }
}
