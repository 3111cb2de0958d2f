using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// InspectAsync / InspectPoolAsync report Free, Held and CoolingDown with backend times.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task InspectAsync_KeysInEveryState_ReportsEachInOrder()
    {
        var never = Unique.Name("never");
        var held = await AcquireAsync(Unique.Name("held"), LongTtl);
        var cooling = await AcquireAsync(Unique.Name("cooling"), LongTtl);
        (await Store.ReleaseWithCooldownAsync(cooling, LongTtl)).Should().BeTrue();
        var released = await AcquireAsync(Unique.Name("released"), LongTtl);
        (await Store.ReleaseAsync(released)).Should().BeTrue();
        var expired = await AcquireAsync(Unique.Name("expired"), Ttl);
        await ExpireAsync();

        var states = await Store.InspectAsync([never, held.Key, cooling.Key, released.Key, expired.Key]);

        states.Select(s => s.Key).Should().Equal(never, held.Key, cooling.Key, released.Key, expired.Key);
        states[0].Should().Be(new LeaseState(never, LeaseStatus.Free, null, null, 0));
        states[1].Status.Should().Be(LeaseStatus.Held);
        states[1].ExpiresAt.Should().BeCloseTo(held.ExpiresAt, TimeTolerance);
        states[1].LastAcquiredAt.Should().NotBeNull();
        states[1].FencingToken.Should().Be(held.FencingToken);
        states[2].Status.Should().Be(LeaseStatus.CoolingDown);
        states[2].ExpiresAt.Should().NotBeNull();
        states[2].FencingToken.Should().Be(cooling.FencingToken);
        states[3].Status.Should().Be(LeaseStatus.Free);
        states[3].ExpiresAt.Should().BeNull();
        states[3].LastAcquiredAt.Should().NotBeNull();
        states[3].FencingToken.Should().Be(released.FencingToken);
        states[4].Status.Should().Be(LeaseStatus.Free, "an expired lease is free");
        states[4].ExpiresAt.Should().BeNull();
        states[4].FencingToken.Should().Be(expired.FencingToken);
        states[1].LastAcquiredAt.Should().BeOnOrBefore(states[4].LastAcquiredAt!.Value, "keys acquired later have a later acquisition time");
    }

    [Fact]
    public async Task InspectAsync_EmptyList_ReturnsEmpty()
    {
        (await Store.InspectAsync([])).Should().BeEmpty();
    }

    [Fact]
    public async Task InspectPoolAsync_MembersInEveryState_ReportsEachCurrentMember()
    {
        var (pool, members) = await CreatePoolAsync(4);
        var held = await AcquireMemberAsync(pool, members[0], LongTtl);
        var cooling = await AcquireMemberAsync(pool, members[1], LongTtl);
        (await Store.ReleaseWithCooldownAsync(cooling, LongTtl)).Should().BeTrue();
        var released = await AcquireMemberAsync(pool, members[2], LongTtl);
        (await Store.ReleaseAsync(released)).Should().BeTrue();

        var states = (await Store.InspectPoolAsync(pool)).ToDictionary(s => s.Key);

        states.Keys.Should().BeEquivalentTo(members);
        states[members[0]].Status.Should().Be(LeaseStatus.Held);
        states[members[0]].ExpiresAt.Should().BeCloseTo(held.ExpiresAt, TimeTolerance);
        states[members[0]].FencingToken.Should().Be(held.FencingToken);
        states[members[1]].Status.Should().Be(LeaseStatus.CoolingDown);
        states[members[1]].ExpiresAt.Should().NotBeNull();
        states[members[1]].FencingToken.Should().Be(cooling.FencingToken);
        states[members[2]].Status.Should().Be(LeaseStatus.Free);
        states[members[2]].ExpiresAt.Should().BeNull();
        states[members[2]].LastAcquiredAt.Should().NotBeNull();
        states[members[2]].FencingToken.Should().Be(released.FencingToken);
        states[members[3]].Should().Be(new LeaseState(members[3], LeaseStatus.Free, null, null, 0));
    }

    [Fact]
    public async Task InspectPoolAsync_HeldMemberExpired_ReportsItFree()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var lease = await AcquireLruAsync(pool, Ttl);
        await ExpireAsync();

        var state = await InspectMemberAsync(pool, members[0]);

        state.Status.Should().Be(LeaseStatus.Free);
        state.ExpiresAt.Should().BeNull();
        state.FencingToken.Should().Be(lease.FencingToken);
    }

    [Fact]
    public async Task InspectPoolAsync_UnknownPool_ReturnsEmpty()
    {
        (await Store.InspectPoolAsync(Unique.Name("pool"))).Should().BeEmpty();
    }
}
