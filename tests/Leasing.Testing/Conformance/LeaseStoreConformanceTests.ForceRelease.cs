using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// ForceReleaseAsync: operators free a key whoever holds it; the fencing counter still grows.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task ForceReleaseAsync_HeldKey_FreesItAndKillsTheOldToken()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, LongTtl);

        (await Backend.CreateStore().ForceReleaseAsync(key)).Should().BeTrue();

        (await InspectOneAsync(key)).Status.Should().Be(LeaseStatus.Free);
        (await Store.RenewAsync(lease, LongTtl)).Should().BeNull();
        (await Store.ReleaseAsync(lease)).Should().BeFalse();
        (await AcquireAsync(key, Ttl)).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task ForceReleaseAsync_CoolingKey_FreesIt()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, LongTtl);
        (await Store.ReleaseWithCooldownAsync(lease, LongTtl)).Should().BeTrue();

        (await Store.ForceReleaseAsync(key)).Should().BeTrue();

        (await AcquireAsync(key, Ttl)).FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task ForceReleaseAsync_FreeOrUnknownKey_ReturnsFalse()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, LongTtl);
        (await Store.ReleaseAsync(lease)).Should().BeTrue();

        (await Store.ForceReleaseAsync(key)).Should().BeFalse();
        (await Store.ForceReleaseAsync(Unique.Name("unknown"))).Should().BeFalse();
        (await Store.ForceReleaseAsync("m0", Unique.Name("pool"))).Should().BeFalse();
    }

    [Fact]
    public async Task ForceReleaseAsync_PoolMember_FreesOnlyThatMember()
    {
        var (pool, members) = await CreatePoolAsync(2);
        var first = await AcquireMemberAsync(pool, members[0], LongTtl);
        await AcquireMemberAsync(pool, members[1], LongTtl);

        (await Store.ForceReleaseAsync(members[0], pool)).Should().BeTrue();

        (await Store.ReleaseAsync(first)).Should().BeFalse();
        var lease = await AcquireLruAsync(pool, Ttl);
        lease.Key.Should().Be(members[0]);
        lease.FencingToken.Should().BeGreaterThan(first.FencingToken);
        (await InspectMemberAsync(pool, members[1])).Status.Should().Be(LeaseStatus.Held);
    }

    [Fact]
    public async Task ForceReleaseAsync_CoolingPoolMember_FreesIt()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var lease = await AcquireLruAsync(pool, LongTtl);
        (await Store.ReleaseWithCooldownAsync(lease, LongTtl)).Should().BeTrue();

        (await Store.ForceReleaseAsync(members[0], pool)).Should().BeTrue();

        (await AcquireLruAsync(pool, Ttl)).Key.Should().Be(members[0]);
    }
}
