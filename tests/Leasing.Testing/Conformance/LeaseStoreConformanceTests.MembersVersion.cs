using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Versioned pool acquires (issue 10, defect 3): a backend that lost the pool or holds an older member
// list says so in the acquire itself (PoolMembersOutdatedException) and claims nothing, so the caller
// writes its list again; an equal or newer stored list acquires as usual.
public abstract partial class LeaseStoreConformanceTests
{
    /// <summary>The two versioned pool acquires, by name: the least recently used member, or member m0.</summary>
    public static TheoryData<string> VersionedAcquires => new() { "lru", "named" };

    [Theory]
    [MemberData(nameof(VersionedAcquires), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task VersionedPoolAcquire_UnknownPool_ThrowsOutdatedWithoutStoredVersionAndWritesNothing(string acquire)
    {
        var pool = Unique.Name("pool");

        var act = async () => await AcquireVersionedAsync(acquire, pool, "m0", Ttl, membersVersion: 3);

        var thrown = (await act.Should().ThrowAsync<PoolMembersOutdatedException>()).Which;
        thrown.Pool.Should().Be(pool);
        thrown.StoredVersion.Should().BeNull("the backend does not know the pool");
        thrown.ExpectedVersion.Should().Be(3);
        (await Store.GetPoolMembersAsync(pool)).Should().BeEmpty();
        (await Store.InspectPoolAsync(pool)).Should().BeEmpty();
        var again = async () => await AcquireVersionedAsync(acquire, pool, "m0", Ttl, membersVersion: 0);
        (await again.Should().ThrowAsync<PoolMembersOutdatedException>()).Which.StoredVersion
            .Should().BeNull("the failed acquire wrote nothing: the pool is still unknown, even to version 0");
    }

    [Theory]
    [MemberData(nameof(VersionedAcquires), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task VersionedPoolAcquire_OlderStoredVersion_ThrowsOutdatedWithStoredVersionAndClaimsNothing(string acquire)
    {
        var (pool, _) = await CreatePoolAsync(3, version: 2);

        var act = async () => await AcquireVersionedAsync(acquire, pool, "m0", LongTtl, membersVersion: 3);

        var thrown = (await act.Should().ThrowAsync<PoolMembersOutdatedException>()).Which;
        thrown.Pool.Should().Be(pool);
        thrown.StoredVersion.Should().Be(2);
        thrown.ExpectedVersion.Should().Be(3);
        (await Store.InspectPoolAsync(pool)).Should().HaveCount(3).And.AllSatisfy(state =>
            state.Should().Be(new LeaseState(state.Key, LeaseStatus.Free, null, null, 0), "nothing was claimed"));
    }

    [Theory]
    [InlineData("lru", 5)]
    [InlineData("lru", 4)]
    [InlineData("lru", 0)]
    [InlineData("named", 5)]
    [InlineData("named", 4)]
    [InlineData("named", 0)]
    public async Task VersionedPoolAcquire_EqualOrNewerStoredVersion_Grants(string acquire, long membersVersion)
    {
        var (pool, members) = await CreatePoolAsync(2, version: 5);

        var lease = await AcquireVersionedAsync(acquire, pool, "m0", LongTtl, membersVersion);

        lease.Should().NotBeNull("the stored list (version 5) is at least as new as the caller's ({0})", membersVersion);
        lease!.Pool.Should().Be(pool);
        members.Should().Contain(lease.Key);
        (await InspectMemberAsync(pool, lease.Key)).Status.Should().Be(LeaseStatus.Held);
        (await Store.RenewAsync(lease, LongTtl)).Should().NotBeNull("a versioned grant is an ordinary lease");
        (await Store.ReleaseAsync(lease)).Should().BeTrue();
    }

    [Fact]
    public async Task VersionedPoolAcquire_Busy_ReturnsNull()
    {
        var (pool, _) = await CreatePoolAsync(1, version: 1);
        var held = await AcquireMemberAsync(pool, "m0", LongTtl);

        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, membersVersion: 1)).Should().BeNull("every member is held");
        (await Store.TryAcquirePoolMemberAsync(pool, "m0", Ttl, membersVersion: 1)).Should().BeNull("m0 is held");
        (await Store.TryAcquirePoolMemberAsync(pool, "not-a-member", Ttl, membersVersion: 1)).Should().BeNull("not a member");
        (await Store.ReleaseWithCooldownAsync(held, LongTtl)).Should().BeTrue();
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, membersVersion: 1)).Should().BeNull("the only member cools down");
    }

    [Theory]
    [MemberData(nameof(VersionedAcquires), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task VersionedPoolAcquire_Outdated_FailsTheReturnedTaskNotTheCall(string acquire)
    {
        var pool = Unique.Name("pool");

        // Decorators that forward through reflection (DispatchProxy) would wrap a synchronous throw.
        ValueTask<Lease?> pending = default;
        var call = () => { pending = AcquireVersionedAsync(acquire, pool, "m0", Ttl, membersVersion: 1); };

        call.Should().NotThrow();
        await FluentActions.Awaiting(async () => await pending).Should().ThrowAsync<PoolMembersOutdatedException>();
    }

    [Fact]
    public async Task UnversionedPoolAcquire_UnknownPool_ReturnsNull()
    {
        var pool = Unique.Name("pool");

        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl)).Should().BeNull("the overload without a version does not check");
        (await Store.TryAcquirePoolMemberAsync(pool, "m0", Ttl)).Should().BeNull();
    }

    [Fact]
    public async Task VersionedPoolAcquire_PoolOnlySubscribedTo_IsUnknown()
    {
        if (Store is not ILeaseReleaseSource source)
        {
            return;
        }

        var pool = Unique.Name("pool");
        await using var subscription = await source.SubscribeToReleasesAsync(pool, static () => { });

        var act = async () => await Store.TryAcquireLeastRecentlyUsedAsync(pool, Ttl, membersVersion: 0);

        (await act.Should().ThrowAsync<PoolMembersOutdatedException>()).Which.StoredVersion
            .Should().BeNull("a subscription is no member list");
    }

    [Fact]
    public async Task VersionedPoolAcquire_RollingDeploy_OlderCallerNeverGetsAMemberTheNewerListRemoved()
    {
        // After data loss the old replica (v1: m0, m1, m2) wrote its list first.
        var (pool, _) = await CreatePoolAsync(3, version: 1);
        var newer = Backend.CreateStore();

        var outdated = async () => await newer.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl, membersVersion: 2);
        (await outdated.Should().ThrowAsync<PoolMembersOutdatedException>()).Which.StoredVersion.Should().Be(1);
        await newer.SetPoolMembersAsync(pool, ["m0", "m1"], version: 2);

        var granted = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            granted.Add((await Store.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl, membersVersion: 1))!.Key);
        }

        granted.Should().BeEquivalentTo(["m0", "m1"]);
        (await Store.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl, membersVersion: 1)).Should().BeNull("m2 was removed by version 2");
        (await Store.TryAcquirePoolMemberAsync(pool, "m2", LongTtl, membersVersion: 1)).Should().BeNull("m2 was removed by version 2");
        (await newer.TryAcquireLeastRecentlyUsedAsync(pool, LongTtl, membersVersion: 2)).Should().BeNull("version 2 is stored: all its members are held");
    }

    [Theory]
    [MemberData(nameof(VersionedAcquires), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task VersionedPoolAcquire_NegativeVersion_ThrowsArgumentExceptionAndWritesNothing(string acquire)
    {
        var (pool, _) = await CreatePoolAsync(2, version: 1);

        var act = async () => await AcquireVersionedAsync(acquire, pool, "m0", Ttl, membersVersion: -1);

        await act.Should().ThrowAsync<ArgumentException>().WithParameterName("membersVersion");
        (await Store.InspectPoolAsync(pool)).Should().AllSatisfy(state => state.Should().Be(new LeaseState(state.Key, LeaseStatus.Free, null, null, 0)));
    }

    [Theory]
    [MemberData(nameof(VersionedAcquires), MemberType = typeof(LeaseStoreConformanceTests))]
    public async Task VersionedPoolAcquire_InvalidPoolOrTtl_ThrowsArgumentException(string acquire)
    {
        var (pool, _) = await CreatePoolAsync(1, version: 1);

        var badPool = async () => await AcquireVersionedAsync(acquire, " ", "m0", Ttl, membersVersion: 1);
        var badTtl = async () => await AcquireVersionedAsync(acquire, pool, "m0", TimeSpan.Zero, membersVersion: 1);

        await badPool.Should().ThrowAsync<ArgumentException>().WithParameterName("pool");
        await badTtl.Should().ThrowAsync<ArgumentException>().WithParameterName("ttl");
        (await InspectMemberAsync(pool, "m0")).Status.Should().Be(LeaseStatus.Free);
    }

    /// <summary>Runs one of <see cref="VersionedAcquires"/>.</summary>
    private ValueTask<Lease?> AcquireVersionedAsync(string acquire, string pool, string member, TimeSpan ttl, long membersVersion) => acquire switch
    {
        "lru" => Store.TryAcquireLeastRecentlyUsedAsync(pool, ttl, membersVersion),
        "named" => Store.TryAcquirePoolMemberAsync(pool, member, ttl, membersVersion),
        _ => throw new ArgumentOutOfRangeException(nameof(acquire), acquire, "lru or named"),
    };
}
