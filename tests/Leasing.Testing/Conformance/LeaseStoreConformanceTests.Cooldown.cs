using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// ReleaseWithCooldownAsync: blocked for the cooldown, token dead, back at the old LRU position.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task ReleaseWithCooldownAsync_OwnLease_BlocksKeyUntilCooldownPasses()
    {
        var key = Unique.Name();
        var other = Backend.CreateStore();
        var lease = await AcquireAsync(key, LongTtl);

        (await Store.ReleaseWithCooldownAsync(lease, Ttl)).Should().BeTrue();

        (await other.TryAcquireAsync(key, Ttl)).Should().BeNull("the key cools down");
        (await Store.TryAcquireAsync(key, Ttl)).Should().BeNull();
        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.CoolingDown);
        state.ExpiresAt.Should().BeOnOrAfter(state.LastAcquiredAt!.Value + Ttl - TimeTolerance, "the cooldown runs from backend now");
        state.ExpiresAt.Should().BeBefore(lease.ExpiresAt, "the cooldown replaces the lease's expiry");
        state.FencingToken.Should().Be(lease.FencingToken);

        await ExpireAsync();

        (await InspectOneAsync(key)).Status.Should().Be(LeaseStatus.Free);
        (await AcquireAsync(key, Ttl, other)).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_OwnLease_KillsTheToken()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, LongTtl);
        (await Store.ReleaseWithCooldownAsync(lease, LongTtl)).Should().BeTrue();
        var cooling = await InspectOneAsync(key);

        (await Store.RenewAsync(lease, LongTtl)).Should().BeNull();
        (await Store.ReleaseAsync(lease)).Should().BeFalse();
        (await Store.ReleaseWithCooldownAsync(lease, Ttl)).Should().BeFalse("the key is cooling down, not ours and not free");

        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.CoolingDown);
        state.ExpiresAt.Should().Be(cooling.ExpiresAt, "the failed calls changed nothing");
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_ExpiredLeaseNobodyTook_CoolsDownTheFreeKey()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, Ttl);
        await ExpireAsync();

        (await Store.ReleaseWithCooldownAsync(lease, LongTtl)).Should().BeTrue();

        (await InspectOneAsync(key)).Status.Should().Be(LeaseStatus.CoolingDown);
        (await Store.TryAcquireAsync(key, Ttl)).Should().BeNull();
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_SomeoneElseHoldsTheKey_ReturnsFalseAndChangesNothing()
    {
        var key = Unique.Name();
        var stale = await AcquireAsync(key, Ttl);
        await ExpireAsync();
        var successor = await AcquireAsync(key, LongTtl, Backend.CreateStore());

        (await Store.ReleaseWithCooldownAsync(stale, LongTtl)).Should().BeFalse();

        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.Held);
        state.FencingToken.Should().Be(successor.FencingToken);
        state.ExpiresAt.Should().BeCloseTo(successor.ExpiresAt, TimeTolerance);
        (await Store.RenewAsync(successor, LongTtl)).Should().NotBeNull();
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_PoolMember_BlocksItThenFreesIt()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var lease = await AcquireLruAsync(pool, LongTtl);

        (await Store.ReleaseWithCooldownAsync(lease, Ttl)).Should().BeTrue();

        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull();
        (await Store.TryAcquirePoolMemberAsync(pool, members[0], Ttl)).Should().BeNull();
        (await Store.RenewAsync(lease, LongTtl)).Should().BeNull();
        (await Store.ReleaseAsync(lease)).Should().BeFalse();
        var state = await InspectMemberAsync(pool, members[0]);
        state.Status.Should().Be(LeaseStatus.CoolingDown);
        state.ExpiresAt.Should().NotBeNull();

        await ExpireAsync();

        (await InspectMemberAsync(pool, members[0])).Status.Should().Be(LeaseStatus.Free);
        (await AcquireLruAsync(pool, Ttl)).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_PoolMember_ComesBackAtItsOldLruPosition()
    {
        var (pool, _) = await CreatePoolAsync(3);
        var first = await AcquireLruAsync(pool, LongTtl);
        var second = await AcquireLruAsync(pool, LongTtl);
        var third = await AcquireLruAsync(pool, LongTtl);
        (await Store.ReleaseAsync(second)).Should().BeTrue();
        (await Store.ReleaseAsync(third)).Should().BeTrue();
        (await Store.ReleaseWithCooldownAsync(first, Ttl)).Should().BeTrue();

        var whileCooling = await AcquireLruAsync(pool, LongTtl);
        whileCooling.Key.Should().Be(second.Key, "the cooling member is skipped");
        (await Store.ReleaseAsync(whileCooling)).Should().BeTrue();
        await ExpireAsync();

        (await AcquireLruAsync(pool, LongTtl)).Key.Should().Be(first.Key, "after its cooldown a member keeps its old least-recently-acquired position");
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_ExpiredPoolMemberNobodyTook_CoolsDownTheFreeMember()
    {
        var (pool, members) = await CreatePoolAsync(2);
        var lease = await AcquireMemberAsync(pool, members[0], Ttl);
        await ExpireAsync();

        (await Store.ReleaseWithCooldownAsync(lease, LongTtl)).Should().BeTrue("the member is free and nobody took it");

        (await InspectMemberAsync(pool, members[0])).Status.Should().Be(LeaseStatus.CoolingDown);
        (await Store.TryAcquirePoolMemberAsync(pool, members[0], Ttl)).Should().BeNull();
        var next = await AcquireLruAsync(pool, Ttl);
        next.Key.Should().Be(members[1]);
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull("the only other member is cooling down");
    }

    [Fact]
    public async Task ReleaseWithCooldownAsync_PoolMemberHeldBySomeoneElse_ReturnsFalseAndChangesNothing()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var stale = await AcquireLruAsync(pool, Ttl);
        await ExpireAsync();
        var successor = await AcquireLruAsync(pool, LongTtl);

        (await Store.ReleaseWithCooldownAsync(stale, LongTtl)).Should().BeFalse();

        var state = await InspectMemberAsync(pool, members[0]);
        state.Status.Should().Be(LeaseStatus.Held);
        state.FencingToken.Should().Be(successor.FencingToken);
        (await Store.ReleaseAsync(successor)).Should().BeTrue();
    }
}
