using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Fencing tokens exceed every token issued before for the key, whatever happened in between.
public abstract partial class LeaseStoreConformanceTests
{
    [Fact]
    public async Task FencingToken_SingleKey_IncreasesAcrossReleaseExpiryCooldownAndForceRelease()
    {
        var key = Unique.Name();
        var tokens = new List<long>();

        var lease = await AcquireAsync(key, Ttl);
        tokens.Add(lease.FencingToken);
        (await Store.ReleaseAsync(lease)).Should().BeTrue();

        lease = await AcquireAsync(key, Ttl);
        tokens.Add(lease.FencingToken);
        await ExpireAsync();

        lease = await AcquireAsync(key, Ttl);
        tokens.Add(lease.FencingToken);
        (await Store.ReleaseWithCooldownAsync(lease, Ttl)).Should().BeTrue();
        await ExpireAsync();

        lease = await AcquireAsync(key, LongTtl);
        tokens.Add(lease.FencingToken);
        (await Store.ForceReleaseAsync(key)).Should().BeTrue();

        tokens.Add((await AcquireAsync(key, Ttl)).FencingToken);
        ShouldStrictlyIncrease(tokens);
    }

    [Fact]
    public async Task FencingToken_PoolMember_IncreasesAcrossReleaseExpiryCooldownAndForceRelease()
    {
        var (pool, members) = await CreatePoolAsync(1);
        var tokens = new List<long>();

        var lease = await AcquireLruAsync(pool, Ttl);
        tokens.Add(lease.FencingToken);
        (await Store.ReleaseAsync(lease)).Should().BeTrue();

        lease = await AcquireMemberAsync(pool, members[0], Ttl);
        tokens.Add(lease.FencingToken);
        await ExpireAsync();

        lease = await AcquireLruAsync(pool, Ttl);
        tokens.Add(lease.FencingToken);
        (await Store.ReleaseWithCooldownAsync(lease, Ttl)).Should().BeTrue();
        await ExpireAsync();

        lease = await AcquireLruAsync(pool, LongTtl);
        tokens.Add(lease.FencingToken);
        (await Store.ForceReleaseAsync(members[0], pool)).Should().BeTrue();

        tokens.Add((await AcquireMemberAsync(pool, members[0], Ttl)).FencingToken);
        ShouldStrictlyIncrease(tokens);
    }

    [Fact]
    public async Task FencingToken_ManyQuickReacquisitions_StrictlyIncrease()
    {
        var key = Unique.Name();
        var tokens = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            var lease = await AcquireAsync(key, Ttl);
            tokens.Add(lease.FencingToken);
            (await Store.ReleaseAsync(lease)).Should().BeTrue();
        }

        ShouldStrictlyIncrease(tokens);
    }

    [Fact]
    public async Task FencingToken_IsPerKey_ReportedByInspectAfterRelease()
    {
        var (pool, members) = await CreatePoolAsync(2);
        var key = Unique.Name();
        var single = await AcquireAsync(key, Ttl);
        var member = await AcquireMemberAsync(pool, members[0], Ttl);
        (await Store.ReleaseAsync(single)).Should().BeTrue();
        (await Store.ReleaseAsync(member)).Should().BeTrue();

        (await InspectOneAsync(key)).FencingToken.Should().Be(single.FencingToken);
        (await InspectMemberAsync(pool, members[0])).FencingToken.Should().Be(member.FencingToken);
        (await InspectMemberAsync(pool, members[1])).FencingToken.Should().Be(0, "no token was ever issued for it");
    }
}
