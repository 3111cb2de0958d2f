using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Fenced state (issue 13): written only under the key's live lease, checked in the same atomic step,
// kept through release, expiry, cooldown and force release, dropped when a member leaves its pool.
public abstract partial class LeaseStoreConformanceTests
{
    private static readonly byte[] Five = [5];
    private static readonly byte[] Six = [6];
    private static readonly byte[] Seven = [7];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteStateAsync_LiveLease_StoresTheBytesWithItsFencingTokenAndBackendTime(bool member)
    {
        var (key, pool, lease) = await AcquireTargetAsync(member, LongTtl);
        var before = (member ? await InspectMemberAsync(pool!, key) : await InspectOneAsync(key)).LastAcquiredAt!.Value;

        (await Store.WriteStateAsync(lease, Five)).Should().BeTrue();

        var state = await Backend.CreateStore().ReadStateAsync(key, pool);
        state.Should().NotBeNull();
        state!.Data.ToArray().Should().Equal(Five);
        state.FencingToken.Should().Be(lease.FencingToken);
        state.WrittenAt.Should().BeOnOrAfter(before - TimeTolerance, "the write time comes from the backend clock");
        state.WrittenAt.Should().BeBefore(lease.ExpiresAt);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteStateAsync_ZombieHolderAfterTheNextHolderWrote_IsRefusedAndTheNextHoldersStateStays_Issue13(bool member)
    {
        // A writes 5, then pauses past its lease; B acquires, reads 5, writes 6; A wakes and writes 7.
        var (key, pool, a) = await AcquireTargetAsync(member, Ttl);
        (await Store.WriteStateAsync(a, Five)).Should().BeTrue();
        await ExpireAsync();

        var other = Backend.CreateStore();
        var b = member ? await AcquireMemberAsync(pool!, key, LongTtl, other) : await AcquireAsync(key, LongTtl, other);
        var read = await other.ReadStateAsync(key, pool);
        read!.Data.ToArray().Should().Equal(Five);
        read.FencingToken.Should().Be(a.FencingToken);
        (await other.WriteStateAsync(b, Six)).Should().BeTrue();

        (await Store.WriteStateAsync(a, Seven)).Should().BeFalse("A's lease was lost: its write must not land");

        var final = await Store.ReadStateAsync(key, pool);
        final!.Data.ToArray().Should().Equal(Six);
        final.FencingToken.Should().Be(b.FencingToken).And.BeGreaterThan(a.FencingToken);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteStateAsync_ExpiredLeaseNobodyTook_IsRefusedAndChangesNothing(bool member)
    {
        var (key, pool, lease) = await AcquireTargetAsync(member, Ttl);
        (await Store.WriteStateAsync(lease, Five)).Should().BeTrue();
        await ExpireAsync();

        (await Store.WriteStateAsync(lease, Seven)).Should().BeFalse("an expired lease writes nothing, even when nobody took the key");

        (await Store.ReadStateAsync(key, pool))!.Data.ToArray().Should().Equal(Five);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteStateAsync_AfterReleaseOrCooldown_IsRefused_AndTheStateSurvivesThemAndForceRelease(bool member)
    {
        var (key, pool, first) = await AcquireTargetAsync(member, LongTtl);
        (await Store.WriteStateAsync(first, Five)).Should().BeTrue();
        (await Store.ReleaseAsync(first)).Should().BeTrue();
        (await Store.WriteStateAsync(first, Seven)).Should().BeFalse("a released lease writes nothing");
        (await Store.ReadStateAsync(key, pool))!.Data.ToArray().Should().Equal(Five, "state survives release");

        var second = member ? await AcquireMemberAsync(pool!, key, LongTtl) : await AcquireAsync(key, LongTtl);
        (await Store.ReleaseWithCooldownAsync(second, LongTtl)).Should().BeTrue();
        (await Store.WriteStateAsync(second, Seven)).Should().BeFalse("a lease released into a cooldown writes nothing");
        (await Store.ReadStateAsync(key, pool))!.Data.ToArray().Should().Equal(Five, "state survives a cooldown");

        (await Store.ForceReleaseAsync(key, pool)).Should().BeTrue();
        var third = member ? await AcquireMemberAsync(pool!, key, Ttl) : await AcquireAsync(key, Ttl);
        var kept = await Store.ReadStateAsync(key, pool);
        kept!.Data.ToArray().Should().Equal(Five, "state survives a force release");
        kept.FencingToken.Should().Be(first.FencingToken);
        third.FencingToken.Should().BeGreaterThan(kept.FencingToken);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteStateAsync_StaleWritersRacingTheNextAcquire_NeverLandAfterIt(bool member)
    {
        // Four writers (each on its own store object, as other connections would be) hammer the state
        // under a lease that an operator then force-releases; the next holder acquires at once. A write
        // checked against the old lease before that may not land after the next acquire. Ten rounds.
        var (key, pool, first) = await AcquireTargetAsync(member, LongTtl);
        var other = Backend.CreateStore();
        var stale = first;
        for (var round = 0; round < 10; round++)
        {
            using var stop = new CancellationTokenSource();
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var writers = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
            {
                var store = Backend.CreateStore();
                while (!stop.IsCancellationRequested)
                {
                    if (await store.WriteStateAsync(stale, new[] { (byte)round, (byte)i }))
                    {
                        started.TrySetResult();
                    }

                    await Task.Yield();
                }
            })).ToArray();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

            (await other.ForceReleaseAsync(key, pool)).Should().BeTrue();
            var next = member ? await AcquireMemberAsync(pool!, key, LongTtl, other) : await AcquireAsync(key, LongTtl, other);
            var seen = await other.ReadStateAsync(key, pool);
            await Task.Delay(30);
            await stop.CancelAsync();
            await Task.WhenAll(writers);

            var after = await other.ReadStateAsync(key, pool);
            after!.WrittenAt.Should().Be(seen!.WrittenAt, $"no stale write landed after the next holder's acquire (round {round})");
            after.Data.ToArray().Should().Equal(seen.Data.ToArray());
            after.FencingToken.Should().Be(stale.FencingToken);
            stale = next;
        }
    }

    [Fact]
    public async Task WriteStateAsync_ExpiredSingleKey_StateOutlivesTheKeysLeaseRecord()
    {
        // A single key's lease record may be dropped some time after its lease ends; its state may not.
        var key = Unique.Name();
        var lease = await AcquireAsync(key, Ttl);
        (await Store.WriteStateAsync(lease, Five)).Should().BeTrue();
        await ExpireAsync();

        (await Store.ReadStateAsync(key))!.Data.ToArray().Should().Equal(Five);
        var next = await AcquireAsync(key, Ttl);
        next.FencingToken.Should().BeGreaterThan(lease.FencingToken);
    }

    [Fact]
    public async Task ReadStateAsync_NothingWritten_IsNull_AndKeysAndMembersOfTheSameNameDoNotShareState()
    {
        var (pool, members) = await CreatePoolAsync(2);
        var key = members[0];
        (await Store.ReadStateAsync(Unique.Name())).Should().BeNull();
        (await Store.ReadStateAsync(key, pool)).Should().BeNull();

        var single = await AcquireAsync(key, LongTtl);
        (await Store.WriteStateAsync(single, Five)).Should().BeTrue();

        (await Store.ReadStateAsync(key, pool)).Should().BeNull("a pool member and a single key of the same name are apart");
        (await Store.ReadStateAsync(members[1], pool)).Should().BeNull();
        (await Store.ReadStateAsync(key, Unique.Name("pool"))).Should().BeNull("an unknown pool has no state");
    }

    [Fact]
    public async Task WriteStateAsync_MemberLeavesThePool_ItsStateIsDeletedAndALaterReAddStartsEmpty()
    {
        var (pool, members) = await CreatePoolAsync(3, version: 1);
        var stays = await AcquireMemberAsync(pool, members[0], LongTtl);
        var leaves = await AcquireMemberAsync(pool, members[1], LongTtl);
        (await Store.WriteStateAsync(stays, Five)).Should().BeTrue();
        (await Store.WriteStateAsync(leaves, Six)).Should().BeTrue();

        await Store.SetPoolMembersAsync(pool, [members[0], members[2]], 2);

        (await Store.ReadStateAsync(members[1], pool)).Should().BeNull("a member's state leaves with the member");
        (await Store.WriteStateAsync(leaves, Seven)).Should().BeFalse("a removed member takes no state, even while still held");
        (await Store.ReadStateAsync(members[0], pool))!.Data.ToArray().Should().Equal(Five);
        (await Store.RenewAsync(leaves, LongTtl)).Should().NotBeNull("the removed member's lease itself is still live");

        (await Store.ReleaseAsync(leaves)).Should().BeTrue();
        await Store.SetPoolMembersAsync(pool, members, 3);
        (await Store.ReadStateAsync(members[1], pool)).Should().BeNull("a member added back starts without state");
    }

    [Fact]
    public async Task WriteStateAsync_BinaryEmptyAndLargestStates_RoundTripExactly()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, LongTtl);
        var every = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var largest = new byte[LeaseArguments.MaxStateBytes];
        new Random(13).NextBytes(largest);

        foreach (var state in new[] { every, [], largest })
        {
            (await Store.WriteStateAsync(lease, state)).Should().BeTrue();
            (await Store.ReadStateAsync(key))!.Data.ToArray().Should().Equal(state);
        }
    }

    [Fact]
    public async Task WriteStateAsync_StateOverTheLimit_ThrowsBeforeAnyWrite()
    {
        var key = Unique.Name();
        var lease = await AcquireAsync(key, LongTtl);
        (await Store.WriteStateAsync(lease, Five)).Should().BeTrue();

        var tooLarge = new byte[LeaseArguments.MaxStateBytes + 1];
        var act = async () => await Store.WriteStateAsync(lease, tooLarge);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("state");
        (await Store.ReadStateAsync(key))!.Data.ToArray().Should().Equal(Five, "nothing was written");
    }

    [Fact]
    public async Task StateCalls_BadArguments_ThrowArgumentExceptions()
    {
        await Store.Awaiting(s => s.WriteStateAsync(null!, Five).AsTask()).Should().ThrowAsync<ArgumentNullException>().WithParameterName("lease");
        await Store.Awaiting(s => s.WriteStateAsync(new Lease("k", "", 1, DateTimeOffset.UtcNow), Five).AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("lease");
        await Store.Awaiting(s => s.ReadStateAsync(" ").AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("key");
        await Store.Awaiting(s => s.ReadStateAsync("k", "").AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("pool");
    }

    // A held single key or pool member (member: pool of 2, the first member).
    private async Task<(string Key, string? Pool, Lease Lease)> AcquireTargetAsync(bool member, TimeSpan ttl)
    {
        if (!member)
        {
            var key = Unique.Name();
            return (key, null, await AcquireAsync(key, ttl));
        }

        var (pool, members) = await CreatePoolAsync(2);
        return (members[0], pool, await AcquireMemberAsync(pool, members[0], ttl));
    }
}
