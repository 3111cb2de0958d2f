using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Complete, replay, release, retention, evict, completion signals.
public abstract partial class IdempotencyStoreConformanceTests
{
    [Theory]
    [InlineData(IdempotencyOutcome.Succeeded, IdempotencyStatus.Succeeded)]
    [InlineData(IdempotencyOutcome.Failed, IdempotencyStatus.Failed)]
    public async Task CompleteAsync_ThenClaim_ReplaysTheStoredOutcome(IdempotencyOutcome outcome, IdempotencyStatus status)
    {
        var key = Unique.Name(outcome.ToString());
        var claim = await ClaimAsync(key, "fp", Ttl);
        byte[] payload = [0, 1, 2, 255, (byte)'{', (byte)'}'];

        (await Store.CompleteAsync(key, claim.OwnerToken!, outcome, payload, LongTtl)).Should().BeTrue();

        var replay = await Backend.CreateStore().TryClaimAsync(key, "fp", Ttl);
        replay.Outcome.Should().Be(ClaimOutcome.Completed);
        replay.OwnerToken.Should().BeNull();
        replay.FencingToken.Should().Be(claim.FencingToken);
        replay.Existing!.Status.Should().Be(status);
        replay.Existing.Result!.Value.ToArray().Should().Equal(payload);
        replay.Existing.Attempt.Should().Be(1);
        ShouldBeSameRecord(await GetAsync(key), replay.Existing);

        // Done is done: the former owner cannot complete again, heartbeat or release.
        (await Store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "again"u8.ToArray(), LongTtl)).Should().BeFalse();
        (await Store.HeartbeatAsync(key, claim.OwnerToken!, Ttl)).Should().BeFalse();
        (await Store.ReleaseAsync(key, claim.OwnerToken!)).Should().BeFalse();
        ShouldBeSameRecord(await GetAsync(key), replay.Existing);
    }

    [Fact]
    public async Task CompleteAsync_EmptyPayload_IsStoredAsEmpty()
    {
        var key = Unique.Name();
        var claim = await ClaimAsync(key, "fp", Ttl);

        (await Store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, ReadOnlyMemory<byte>.Empty, LongTtl)).Should().BeTrue();

        var record = await GetAsync(key);
        record.Status.Should().Be(IdempotencyStatus.Succeeded);
        record.Result.Should().NotBeNull("a completed record always carries its payload");
        record.Result!.Value.Length.Should().Be(0);
    }

    [Fact]
    public async Task ReleaseAsync_ThenClaim_ReclaimsWithTheAttemptCounted()
    {
        var key = Unique.Name();
        var first = await ClaimAsync(key, "fp", LongTtl);

        (await Store.ReleaseAsync(key, first.OwnerToken!)).Should().BeTrue();

        var released = await GetAsync(key);
        released.Status.Should().Be(IdempotencyStatus.Released);
        released.Fingerprint.Should().Be("fp");
        released.Attempt.Should().Be(1);
        released.Result.Should().BeNull();

        var second = await ClaimAsync(key, "fp", LongTtl, Backend.CreateStore());
        second.Existing!.Attempt.Should().Be(2);
        second.OwnerToken.Should().NotBe(first.OwnerToken);
        second.FencingToken.Should().BeGreaterThan(first.FencingToken);
        (await Store.HeartbeatAsync(key, first.OwnerToken!, LongTtl)).Should().BeFalse();
        (await Store.ReleaseAsync(key, first.OwnerToken!)).Should().BeFalse();

        (await Store.ReleaseAsync(key, second.OwnerToken!)).Should().BeTrue();
        (await ClaimAsync(key, "fp", LongTtl)).Existing!.Attempt.Should().Be(3);
    }

    [Fact]
    public async Task CompletedRecord_AfterItsRetention_IsGoneAndTheKeyIsFresh()
    {
        var key = Unique.Name();
        var claim = await ClaimAsync(key, "fp", LongTtl);
        (await Store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), Ttl)).Should().BeTrue();
        (await Store.TryClaimAsync(key, "fp", Ttl)).Outcome.Should().Be(ClaimOutcome.Completed);

        await ExpireAsync();

        (await Store.GetAsync(key)).Should().BeNull("the retention ended");
        var fresh = await ClaimAsync(key, "other input is fine now", LongTtl);
        fresh.Existing!.Attempt.Should().Be(1);
        fresh.FencingToken.Should().BeGreaterThan(claim.FencingToken);
    }

    [Fact]
    public async Task EvictAsync_DeletesAnyRecordAndFencingStillGrows()
    {
        var key = Unique.Name();
        var first = await ClaimAsync(key, "fp", LongTtl);
        (await Store.CompleteAsync(key, first.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), LongTtl)).Should().BeTrue();

        (await Store.EvictAsync(key)).Should().BeTrue();

        (await Store.GetAsync(key)).Should().BeNull();
        (await Store.EvictAsync(key)).Should().BeFalse("nothing is left to evict");
        var second = await ClaimAsync(key, "fp", LongTtl);
        second.Existing!.Attempt.Should().Be(1);
        second.FencingToken.Should().BeGreaterThan(first.FencingToken);

        // An in-progress record can be evicted too; its owner then owns nothing.
        (await Store.EvictAsync(key)).Should().BeTrue();
        (await Store.CompleteAsync(key, second.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), LongTtl)).Should().BeFalse();
        (await Store.GetAsync(key)).Should().BeNull();
    }

    [Fact]
    public async Task EvictAsync_UnknownKey_ReturnsFalse()
    {
        (await Store.EvictAsync(Unique.Name())).Should().BeFalse();
    }

    [Fact]
    public async Task CompletionSource_CompleteAndRelease_SignalSubscribersOfThatKeyOnly()
    {
        (Store is IIdempotencyCompletionSource).Should().Be(Backend.SignalsCompletion, "the backend says whether its stores signal completions");
        if (Store is not IIdempotencyCompletionSource)
        {
            return;
        }

        var key = Unique.Name();
        var unrelated = Unique.Name("other");
        var signals = 0;
        var unrelatedSignals = 0;
        var source = (IIdempotencyCompletionSource)Backend.CreateStore();
        await using (await source.SubscribeToCompletionAsync(key, () => Interlocked.Increment(ref signals)))
        await using (await source.SubscribeToCompletionAsync(unrelated, () => Interlocked.Increment(ref unrelatedSignals)))
        {
            var claim = await ClaimAsync(key, "fp", LongTtl);
            (await Store.ReleaseAsync(key, claim.OwnerToken!)).Should().BeTrue();
            await Eventually.TrueAsync(() => Volatile.Read(ref signals) >= 1, "a release is signalled");

            claim = await ClaimAsync(key, "fp", LongTtl);
            (await Store.CompleteAsync(key, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "r"u8.ToArray(), LongTtl)).Should().BeTrue();
            await Eventually.TrueAsync(() => Volatile.Read(ref signals) >= 2, "a completion is signalled");
        }

        Volatile.Read(ref unrelatedSignals).Should().Be(0, "signals are per key");
    }
}
