using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Renew and release: compare-and-set on the owner token; expiry on the backend's clock.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task RenewAsync_OwnLease_ExtendsFromBackendNowKeepingTokenAndFencing()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, Ttl);
        // A quarter of a ttl: the renew must reach a live lease, so on real clocks it leaves 3/4 of a
        // ttl for scheduling delays on a loaded machine (half a ttl was once not enough on a cluster).
        await Backend.PassAsync(Ttl / 4);

        var renewed = await Store.RenewAsync(lease, Ttl * 3);

        renewed.Should().NotBeNull();
        renewed!.Key.Should().Be(key);
        renewed.Pool.Should().BeNull();
        renewed.Token.Should().Be(lease.Token);
        renewed.FencingToken.Should().Be(lease.FencingToken);
        renewed.ExpiresAt.Should().BeOnOrAfter(lease.ExpiresAt + (Ttl * 2), "renew sets backend now + ttl, and a quarter of a ttl has passed");

        await ExpireAsync();
        (await Store.TryAcquireAsync(key, Ttl)).Should().BeNull("the renewed lease outlives the original expiry");
        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.Held);
        state.ExpiresAt.Should().BeCloseTo(renewed.ExpiresAt, TimeTolerance);
    }

    [Fact]
    public async Task RenewAsync_PoolMemberWithAShorterTtl_ExpiresAtTheShorterEnd()
    {
        // A renew sets backend now + ttl, also when that is earlier than the lease's end so far: the
        // channel is taken back after the shorter end (not after the long first lease).
        var (pool, _) = await CreatePoolAsync(1);
        var lease = await AcquireLruAsync(pool, LongTtl);

        var renewed = await Store.RenewAsync(lease, Ttl);
        renewed.Should().NotBeNull();
        renewed!.ExpiresAt.Should().BeBefore(lease.ExpiresAt);

        await ExpireAsync();
        var next = await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl);
        next.Should().NotBeNull("the renewed lease ended a Ttl after the renew");
        next!.FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task RenewAsync_OwnPoolMemberLease_ExtendsIt()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var lease = await AcquireLruAsync(pool, Ttl);

        var renewed = await Store.RenewAsync(lease, Ttl * 3);

        renewed.Should().NotBeNull();
        renewed!.Pool.Should().Be(pool);
        renewed.Key.Should().Be(members[0]);
        renewed.Token.Should().Be(lease.Token);
        renewed.FencingToken.Should().Be(lease.FencingToken);
        await ExpireAsync();
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull("the renewed lease outlives the original expiry");
        (await Store.ReleaseAsync(renewed)).Should().BeTrue();
    }

    [Fact]
    public async Task RenewAsync_AfterRelease_ReturnsNull()
    {
        var lease = await AcquireAsync(Unique.Name(), Ttl);
        (await Store.ReleaseAsync(lease)).Should().BeTrue();

        (await Store.RenewAsync(lease, Ttl)).Should().BeNull();
        (await InspectOneAsync(lease.Key)).Status.Should().Be(LeaseStatus.Free, "renew never re-creates a lease");
    }

    [Fact]
    public async Task RenewAsync_ExpiredLeaseNobodyTook_ReturnsNullAndLeavesKeyFree()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, Ttl);
        await ExpireAsync();

        (await Store.RenewAsync(lease, LongTtl)).Should().BeNull("an expired lease is never re-created");

        (await InspectOneAsync(key)).Status.Should().Be(LeaseStatus.Free);
        (await AcquireAsync(key, Ttl, Backend.CreateStore())).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task RenewAsync_ExpiredPoolMemberLeaseNobodyTook_ReturnsNullAndMemberIsFree()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var lease = await AcquireLruAsync(pool, Ttl);
        await ExpireAsync();

        (await Store.RenewAsync(lease, LongTtl)).Should().BeNull();

        (await InspectMemberAsync(pool, members[0])).Status.Should().Be(LeaseStatus.Free);
        (await AcquireLruAsync(pool, Ttl)).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task RenewAsync_WrongToken_ReturnsNullAndKeepsTheLease()
    {
        var lease = await AcquireAsync(Unique.Name(), Ttl);

        (await Store.RenewAsync(lease with { Token = OwnerTokens.Create() }, LongTtl)).Should().BeNull();

        var state = await InspectOneAsync(lease.Key);
        state.Status.Should().Be(LeaseStatus.Held);
        state.ExpiresAt.Should().BeCloseTo(lease.ExpiresAt, TimeTolerance, "a failed renew extends nothing");
    }

    [Fact]
    public async Task StaleHolder_AfterSuccessorAcquired_CannotRenewOrReleaseIt()
    {
        var key = Unique.Name();
        var stale = await AcquireAsync(key, Ttl);
        await ExpireAsync();
        var successor = await AcquireAsync(key, LongTtl, Backend.CreateStore());

        (await Store.RenewAsync(stale, LongTtl)).Should().BeNull();
        (await Store.ReleaseAsync(stale)).Should().BeFalse();

        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.Held);
        state.FencingToken.Should().Be(successor.FencingToken);
        state.ExpiresAt.Should().BeCloseTo(successor.ExpiresAt, TimeTolerance);
        successor.FencingToken.Should().BeGreaterThan(stale.FencingToken);
        (await Store.RenewAsync(successor, LongTtl)).Should().NotBeNull();
    }

    [Fact]
    public async Task StaleHolder_OfPoolMemberAfterSuccessorAcquired_CannotRenewOrReleaseIt()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var stale = await AcquireLruAsync(pool, Ttl);
        await ExpireAsync();
        var successor = await AcquireLruAsync(pool, LongTtl, Backend.CreateStore());

        (await Store.RenewAsync(stale, LongTtl)).Should().BeNull();
        (await Store.ReleaseAsync(stale)).Should().BeFalse();

        var state = await InspectMemberAsync(pool, members[0]);
        state.Status.Should().Be(LeaseStatus.Held);
        state.FencingToken.Should().Be(successor.FencingToken);
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull("the successor still holds the only member");
        (await Store.ReleaseAsync(successor)).Should().BeTrue();
    }

    [Fact]
    public async Task ReleaseAsync_OwnLease_FreesKeyAndKeepsHistory()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, LongTtl);

        (await Store.ReleaseAsync(lease)).Should().BeTrue();

        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.Free);
        state.ExpiresAt.Should().BeNull();
        state.LastAcquiredAt.Should().NotBeNull();
        state.FencingToken.Should().Be(lease.FencingToken, "the fencing counter survives release");
        (await AcquireAsync(key, Ttl, Backend.CreateStore())).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task ReleaseAsync_Twice_SecondReturnsFalse()
    {
        var lease = await AcquireAsync(Unique.Name(), Ttl);

        (await Store.ReleaseAsync(lease)).Should().BeTrue();
        (await Store.ReleaseAsync(lease)).Should().BeFalse();
    }

    [Fact]
    public async Task ReleaseAsync_WrongToken_ReturnsFalseAndKeepsTheLease()
    {
        var lease = await AcquireAsync(Unique.Name(), LongTtl);

        (await Store.ReleaseAsync(lease with { Token = OwnerTokens.Create() })).Should().BeFalse();

        (await Store.TryAcquireAsync(lease.Key, Ttl)).Should().BeNull();
        (await Store.ReleaseAsync(lease)).Should().BeTrue();
    }

    [Fact]
    public async Task ReleaseAsync_ExpiredLease_ReturnsFalse()
    {
        var lease = await AcquireAsync(Unique.Name(), Ttl);
        await ExpireAsync();

        (await Store.ReleaseAsync(lease)).Should().BeFalse("an expired lease is no longer ours");
    }

    [Fact]
    public async Task TryAcquireAsync_AfterTtlPasses_KeyIsFreeForOthers()
    {
        var key = Unique.Name();
        var other = Backend.CreateStore();
        var lease = await AcquireAsync(key, Ttl);
        (await other.TryAcquireAsync(key, Ttl)).Should().BeNull("the lease is held right after acquiring");

        await ExpireAsync();

        var state = await InspectOneAsync(key);
        state.Status.Should().Be(LeaseStatus.Free, "expiry is decided by the backend's clock");
        state.ExpiresAt.Should().BeNull();
        state.FencingToken.Should().Be(lease.FencingToken);
        (await AcquireAsync(key, Ttl, other)).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }
}
