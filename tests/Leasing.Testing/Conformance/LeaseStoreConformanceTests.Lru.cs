using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Pools hand out the least recently acquired free member, strictly.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_FreeMember_ReturnsPoolLease()
    {
        var (pool, members) = await CreatePoolAsync(3);

        var lease = await AcquireLruAsync(pool, Ttl);

        lease.Pool.Should().Be(pool);
        members.Should().Contain(lease.Key);
        lease.FencingToken.Should().BePositive();
        var state = await InspectMemberAsync(pool, lease.Key);
        state.Status.Should().Be(LeaseStatus.Held);
        state.FencingToken.Should().Be(lease.FencingToken);
        state.ExpiresAt.Should().BeCloseTo(lease.ExpiresAt, TimeTolerance);
        (state.ExpiresAt!.Value - state.LastAcquiredAt!.Value).Should().BeCloseTo(Ttl, TimeTolerance);
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_AllMembersHeld_ReturnsNull()
    {
        var (pool, _) = await CreatePoolAsync(2);
        await AcquireLruAsync(pool, LongTtl);
        await AcquireLruAsync(pool, LongTtl);

        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();
        (await Backend.CreateStore().TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_UnknownPool_ReturnsNull()
    {
        (await Store.TryAcquireLeastRecentlyUsedAsync(Unique.Name("pool"), Ttl)).Should().BeNull();
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_SequentialAcquireRelease_VisitsEveryMemberBeforeRepeating()
    {
        var (pool, members) = await CreatePoolAsync(5);
        var order = new List<string>();
        for (var i = 0; i < 15; i++)
        {
            var lease = await AcquireLruAsync(pool, Ttl);
            order.Add(lease.Key);
            (await Store.ReleaseAsync(lease)).Should().BeTrue();
        }

        order.Take(5).Should().BeEquivalentTo(members, "all five are visited before any repeats");
        for (var i = 5; i < order.Count; i++)
        {
            order[i].Should().Be(order[i - 5], $"acquisition {i} repeats the rotation ({string.Join(", ", order)})");
        }
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_ReleaseOrderIgnored_LeastRecentlyAcquiredComesFirst()
    {
        var (pool, _) = await CreatePoolAsync(5);
        var held = new List<Lease>();
        for (var i = 0; i < 5; i++)
        {
            held.Add(await AcquireLruAsync(pool, LongTtl));
        }

        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();
        for (var i = held.Count - 1; i >= 0; i--)
        {
            (await Store.ReleaseAsync(held[i])).Should().BeTrue();
        }

        var next = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var lease = await AcquireLruAsync(pool, Ttl);
            next.Add(lease.Key);
            (await Store.ReleaseAsync(lease)).Should().BeTrue();
        }

        next.Should().Equal(held.Select(l => l.Key), "members come back in the order they were acquired, not released");
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_AfterNamedAcquire_TreatsThatMemberAsMostRecent()
    {
        var (pool, _) = await CreatePoolAsync(3);
        var rotation = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var lease = await AcquireLruAsync(pool, Ttl);
            rotation.Add(lease.Key);
            (await Store.ReleaseAsync(lease)).Should().BeTrue();
        }

        var named = await AcquireMemberAsync(pool, rotation[0], Ttl);
        (await Store.ReleaseAsync(named)).Should().BeTrue();

        var next = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var lease = await AcquireLruAsync(pool, Ttl);
            next.Add(lease.Key);
            (await Store.ReleaseAsync(lease)).Should().BeTrue();
        }

        next.Should().Equal(rotation[1], rotation[2], rotation[0]);
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_NewlyAddedMember_ComesBeforeAcquiredOnes()
    {
        var (pool, members) = await CreatePoolAsync(2, version: 1);
        for (var i = 0; i < 2; i++)
        {
            (await Store.ReleaseAsync(await AcquireLruAsync(pool, Ttl))).Should().BeTrue();
        }

        await Store.SetPoolMembersAsync(pool, [.. members, "added"], version: 2);

        (await AcquireLruAsync(pool, Ttl)).Key.Should().Be("added", "a member never acquired is the least recently acquired");
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_HolderExpired_HandsTheMemberOutAgain()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var crashed = await AcquireLruAsync(pool, Ttl);
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull("the member is held right after acquiring");

        await ExpireAsync();

        var lease = await AcquireLruAsync(pool, Ttl, Backend.CreateStore());
        lease.Key.Should().Be(members[0]);
        lease.Token.Should().NotBe(crashed.Token);
        lease.FencingToken.Should().BeGreaterThan(crashed.FencingToken);
    }

    [Fact]
    public async Task TryAcquireLeastRecentlyUsedAsync_OneOfManyHeldMembersExpired_ReturnsThatOne()
    {
        var (pool, members) = await CreatePoolAsync(3);
        var crashed = await AcquireMemberAsync(pool, members[1], Ttl);
        await AcquireMemberAsync(pool, members[0], LongTtl);
        await AcquireMemberAsync(pool, members[2], LongTtl);
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();

        await ExpireAsync();

        (await AcquireLruAsync(pool, Ttl)).Key.Should().Be(crashed.Key);
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();
    }

    [Fact]
    public async Task TryAcquirePoolMemberAsync_FreeMember_ReturnsItsLease()
    {
        var (pool, members) = await CreatePoolAsync(3);

        var lease = await AcquireMemberAsync(pool, members[2], LongTtl);

        lease.Key.Should().Be(members[2]);
        lease.Pool.Should().Be(pool);
        (await InspectMemberAsync(pool, members[2])).Status.Should().Be(LeaseStatus.Held);
        (await InspectMemberAsync(pool, members[0])).Status.Should().Be(LeaseStatus.Free);
    }

    [Fact]
    public async Task TryAcquirePoolMemberAsync_BusyMember_ReturnsNull()
    {
        var (pool, members) = await CreatePoolAsync(2);
        await AcquireMemberAsync(pool, members[0], LongTtl);

        (await Store.TryAcquirePoolMemberAsync(pool, members[0], Ttl)).Should().BeNull();
        (await Backend.CreateStore().TryAcquirePoolMemberAsync(pool, members[0], Ttl)).Should().BeNull();
    }

    [Fact]
    public async Task TryAcquirePoolMemberAsync_HolderExpired_AcquiresIt()
    {
        var (pool, members) = await CreatePoolAsync(2);
        var crashed = await AcquireMemberAsync(pool, members[0], Ttl);
        await ExpireAsync();

        (await AcquireMemberAsync(pool, members[0], Ttl)).FencingToken.Should().BeGreaterThan(crashed.FencingToken);
    }

    [Fact]
    public async Task TryAcquirePoolMemberAsync_NotAMemberOrUnknownPool_ReturnsNull()
    {
        var (pool, _) = await CreatePoolAsync(2);

        (await Store.TryAcquirePoolMemberAsync(pool, "not-a-member", Ttl)).Should().BeNull();
        (await Store.TryAcquirePoolMemberAsync(Unique.Name("pool"), "m0", Ttl)).Should().BeNull();
        (await Store.GetPoolMembersAsync(pool)).Should().NotContain("not-a-member", "a failed acquire adds nothing");
    }
}
