using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// ReleaseAndAcquireLeastRecentlyUsedAsync (issue 11): a release that takes the next lease for a waiting caller.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task ReleaseAndAcquireLeastRecentlyUsedAsync_OwnLease_ReleasesItAndClaimsTheLeastRecentlyUsedFreeMember()
    {
        var (pool, members) = await CreatePoolAsync(3);
        var first = await AcquireLruAsync(pool, LongTtl);
        var second = await AcquireLruAsync(pool, LongTtl);
        first.Key.Should().Be(members[0]);

        var result = await Store.ReleaseAndAcquireLeastRecentlyUsedAsync(first, LongTtl, 0);

        result.Released.Should().BeTrue();
        result.MembersOutdated.Should().BeFalse();
        result.Acquired!.Key.Should().Be(members[2], "the never-acquired member is less recently used than the one just released");
        result.Acquired.Pool.Should().Be(pool);
        (await Store.ReleaseAsync(second)).Should().BeTrue();
        (await InspectMemberAsync(pool, members[0])).Status.Should().Be(LeaseStatus.Free);
        (await InspectMemberAsync(pool, members[2])).Status.Should().Be(LeaseStatus.Held);
        (await Store.RenewAsync(first, LongTtl)).Should().BeNull("the released lease is dead");
        (await Store.ReleaseAsync(result.Acquired)).Should().BeTrue("the new lease is a lease like any other");
    }

    [Fact]
    public async Task ReleaseAndAcquireLeastRecentlyUsedAsync_OnlyMember_HandsTheSameMemberOnUnderANewTokenAndFencingToken()
    {
        var (pool, _) = await CreatePoolAsync(1);
        var held = await AcquireLruAsync(pool, LongTtl);

        var result = await Store.ReleaseAndAcquireLeastRecentlyUsedAsync(held, LongTtl, 0);

        result.Acquired!.Key.Should().Be(held.Key);
        result.Acquired.Token.Should().NotBe(held.Token);
        result.Acquired.FencingToken.Should().BeGreaterThan(held.FencingToken);
        (await Store.ReleaseAsync(held)).Should().BeFalse("the old owner token is dead");
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull("the member went straight to the next holder");
    }

    [Fact]
    public async Task ReleaseAndAcquireLeastRecentlyUsedAsync_LeaseNoLongerOurs_ClaimsNothing()
    {
        var (pool, members) = await CreatePoolAsync(2);
        var lost = await AcquireMemberAsync(pool, members[0], Ttl);
        await ExpireAsync();
        var taker = await AcquireMemberAsync(pool, members[0], LongTtl, Backend.CreateStore());

        var result = await Store.ReleaseAndAcquireLeastRecentlyUsedAsync(lost, LongTtl, 0);

        result.Should().Be(new ReleaseAndAcquireResult(false, null, false));
        (await InspectMemberAsync(pool, members[1])).Status.Should().Be(LeaseStatus.Free, "nothing was claimed");
        (await InspectMemberAsync(pool, members[0])).FencingToken.Should().Be(taker.FencingToken);
    }

    [Fact]
    public async Task ReleaseAndAcquireLeastRecentlyUsedAsync_OutdatedMemberList_ReleasesButClaimsNothing()
    {
        var (pool, members) = await CreatePoolAsync(2, version: 1);
        var held = await AcquireMemberAsync(pool, members[0], LongTtl);

        var result = await Store.ReleaseAndAcquireLeastRecentlyUsedAsync(held, LongTtl, 2);

        result.Should().Be(new ReleaseAndAcquireResult(true, null, true));
        (await Store.InspectPoolAsync(pool)).Should().OnlyContain(s => s.Status == LeaseStatus.Free);
    }

    [Fact]
    public async Task ReleaseAndAcquireLeastRecentlyUsedAsync_SingleKeyLeaseOrBadArguments_ThrowBeforeAnyWrite()
    {
        var key = Unique.Name();
        var single = await AcquireAsync(key, LongTtl);
        var (pool, members) = await CreatePoolAsync(1);
        var member = await AcquireMemberAsync(pool, members[0], LongTtl);

        await Store.Awaiting(s => s.ReleaseAndAcquireLeastRecentlyUsedAsync(single, LongTtl, 0).AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("lease");
        await Store.Awaiting(s => s.ReleaseAndAcquireLeastRecentlyUsedAsync(member, TimeSpan.Zero, 0).AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("ttl");
        await Store.Awaiting(s => s.ReleaseAndAcquireLeastRecentlyUsedAsync(member, LongTtl, -1).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>().WithParameterName("membersVersion");

        (await InspectOneAsync(key)).Status.Should().Be(LeaseStatus.Held);
        (await InspectMemberAsync(pool, members[0])).Status.Should().Be(LeaseStatus.Held);
    }
}
