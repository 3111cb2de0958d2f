using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Only the owner may heartbeat, complete or release; everyone else changes nothing.
public abstract partial class IdempotencyStoreConformanceTests
{
    [Fact]
    public async Task NonOwner_HeartbeatCompleteRelease_ReturnFalseAndChangeNothing()
    {
        var key = Unique.Name();
        var claim = await ClaimAsync(key, "fp", Ttl);
        var other = Backend.CreateStore();
        var stranger = OwnerTokens.Create();

        (await other.HeartbeatAsync(key, stranger, LongTtl)).Should().BeFalse();
        (await other.CompleteAsync(key, stranger, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), LongTtl)).Should().BeFalse();
        (await other.CompleteAsync(key, stranger, IdempotencyOutcome.Failed, "x"u8.ToArray(), LongTtl)).Should().BeFalse();
        (await other.ReleaseAsync(key, stranger)).Should().BeFalse();

        ShouldBeSameRecord(await GetAsync(key), claim.Existing!);
        (await other.TryClaimAsync(key, "fp", Ttl)).Outcome.Should().Be(ClaimOutcome.InProgress, "the owner's claim stands");
    }

    [Fact]
    public async Task UnknownKey_HeartbeatCompleteRelease_ReturnFalseAndCreateNothing()
    {
        var key = Unique.Name();
        var token = OwnerTokens.Create();

        (await Store.HeartbeatAsync(key, token, Ttl)).Should().BeFalse();
        (await Store.CompleteAsync(key, token, IdempotencyOutcome.Succeeded, "x"u8.ToArray(), Ttl)).Should().BeFalse();
        (await Store.ReleaseAsync(key, token)).Should().BeFalse();

        (await Store.GetAsync(key)).Should().BeNull();
    }

    [Fact]
    public async Task HeartbeatAsync_Owner_ExtendsTheClaimPastItsFirstLease()
    {
        var key = Unique.Name();
        // Times count from when the claim was sent, not from its reply (a first call in a cold test
        // process can take a good part of a real-time lease to come back).
        var sent = Backend.TimeProvider.GetTimestamp();
        var claim = await ClaimAsync(key, "fp", Ttl);

        await PassUntilAsync(sent, Ttl * 0.6);
        (await Store.HeartbeatAsync(key, claim.OwnerToken!, Ttl)).Should().BeTrue($"the heartbeat was sent {Backend.TimeProvider.GetElapsedTime(sent).TotalMilliseconds:0} ms after the claim, within its lease");
        await PassUntilAsync(sent, Ttl * 1.2);

        (await Backend.CreateStore().TryClaimAsync(key, "fp", Ttl)).Outcome.Should().Be(ClaimOutcome.InProgress, "the heartbeat moved the lease past the first one's end");
        var record = await GetAsync(key);
        record.LeaseExpiresAt.Should().BeAfter(claim.Existing!.LeaseExpiresAt);
        record.FencingToken.Should().Be(claim.FencingToken, "a heartbeat keeps the fencing token");
        record.Attempt.Should().Be(1);
    }

    [Fact]
    public async Task HeartbeatAsync_AfterTheLeaseExpired_ReturnsFalse()
    {
        var key = Unique.Name();
        var claim = await ClaimAsync(key, "fp", Ttl);
        await ExpireAsync();

        (await Store.HeartbeatAsync(key, claim.OwnerToken!, Ttl)).Should().BeFalse("a heartbeat never revives an expired claim");

        (await Backend.CreateStore().TryClaimAsync(key, "fp", Ttl)).Outcome.Should().Be(ClaimOutcome.Claimed);
    }

    [Fact]
    public async Task LeaseExpiry_ThenClaim_NewOwnerWithHigherFencingToken()
    {
        var key = Unique.Name();
        var first = await ClaimAsync(key, "fp", Ttl);
        await ExpireAsync();

        var second = await ClaimAsync(key, "fp", LongTtl, Backend.CreateStore());

        second.OwnerToken.Should().NotBe(first.OwnerToken);
        second.FencingToken.Should().BeGreaterThan(first.FencingToken);
        second.Existing!.Status.Should().Be(IdempotencyStatus.InProgress);
        second.Existing.Attempt.Should().BeGreaterThanOrEqualTo(1);

        // The first owner, back from a pause, can no longer touch the key.
        (await Store.HeartbeatAsync(key, first.OwnerToken!, LongTtl)).Should().BeFalse();
        (await Store.CompleteAsync(key, first.OwnerToken!, IdempotencyOutcome.Succeeded, "stale"u8.ToArray(), LongTtl)).Should().BeFalse();
        (await Store.ReleaseAsync(key, first.OwnerToken!)).Should().BeFalse();
        ShouldBeSameRecord(await GetAsync(key), second.Existing);
    }

    [Fact]
    public async Task CompleteAsync_LeaseExpiredButNotReclaimed_StoresTheOutcome()
    {
        var key = Unique.Name();
        var claim = await ClaimAsync(key, "fp", Ttl);
        await ExpireAsync();

        (await Store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "late"u8.ToArray(), LongTtl)).Should().BeTrue(
            "the action ran and nobody else claimed the key: its outcome is the one to keep");

        var replay = await Backend.CreateStore().TryClaimAsync(key, "fp", Ttl);
        replay.Outcome.Should().Be(ClaimOutcome.Completed);
        replay.Existing!.Result!.Value.ToArray().Should().Equal("late"u8.ToArray());
    }
}
