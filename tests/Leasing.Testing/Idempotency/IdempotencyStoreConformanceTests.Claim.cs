using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Claims: fresh, duplicate in progress, fingerprint mismatch, races.
public abstract partial class IdempotencyStoreConformanceTests
{
    [Fact]
    public async Task TryClaimAsync_NewKey_ClaimsWithOwnerTokenAndFencingToken()
    {
        var key = Unique.Name();

        var claim = await ClaimAsync(key, "fp", Ttl);

        claim.FencingToken.Should().BePositive();
        claim.Existing.Should().NotBeNull("a claim returns the new record");
        claim.Existing!.Key.Should().Be(key);
        claim.Existing.Status.Should().Be(IdempotencyStatus.InProgress);
        claim.Existing.Fingerprint.Should().Be("fp");
        claim.Existing.Attempt.Should().Be(1);
        claim.Existing.FencingToken.Should().Be(claim.FencingToken);
        claim.Existing.Result.Should().BeNull();
        ShouldBeSameRecord(await GetAsync(key), claim.Existing);
        claim.ToString().Should().NotContain(claim.OwnerToken!, "owner tokens must not reach logs");
    }

    [Fact]
    public async Task TryClaimAsync_KeyInProgressElsewhere_ReportsInProgressAndChangesNothing()
    {
        var key = Unique.Name();
        var first = await ClaimAsync(key, "fp", Ttl);
        var other = Backend.CreateStore();

        var second = await other.TryClaimAsync(key, "fp", Ttl);
        var third = await Store.TryClaimAsync(key, "fp", Ttl);

        foreach (var duplicate in new[] { second, third })
        {
            duplicate.Outcome.Should().Be(ClaimOutcome.InProgress);
            duplicate.OwnerToken.Should().BeNull();
            duplicate.FencingToken.Should().Be(first.FencingToken);
            duplicate.Existing.Should().NotBeNull();
            ShouldBeSameRecord(duplicate.Existing!, first.Existing!);
        }

        ShouldBeSameRecord(await GetAsync(key), first.Existing!);
    }

    [Fact]
    public async Task TryClaimAsync_OtherFingerprint_ReportsMismatchWhateverTheState()
    {
        var inProgress = Unique.Name("p");
        var succeeded = Unique.Name("s");
        var failed = Unique.Name("f");
        var released = Unique.Name("r");
        await ClaimAsync(inProgress, "fp", LongTtl);
        var claim = await ClaimAsync(succeeded, "fp", LongTtl);
        (await Store.CompleteAsync(succeeded, claim.OwnerToken!, IdempotencyOutcome.Succeeded, "1"u8.ToArray(), LongTtl)).Should().BeTrue();
        claim = await ClaimAsync(failed, "fp", LongTtl);
        (await Store.CompleteAsync(failed, claim.OwnerToken!, IdempotencyOutcome.Failed, "2"u8.ToArray(), LongTtl)).Should().BeTrue();
        claim = await ClaimAsync(released, "fp", LongTtl);
        (await Store.ReleaseAsync(released, claim.OwnerToken!)).Should().BeTrue();

        foreach (var key in new[] { inProgress, succeeded, failed, released })
        {
            var before = await GetAsync(key);

            var mismatch = await Store.TryClaimAsync(key, "other", LongTtl);

            mismatch.Outcome.Should().Be(ClaimOutcome.FingerprintMismatch, $"{key} was claimed with another fingerprint");
            mismatch.OwnerToken.Should().BeNull();
            mismatch.Existing.Should().NotBeNull();
            mismatch.Existing!.Fingerprint.Should().Be("fp");
            ShouldBeSameRecord(await GetAsync(key), before);
        }
    }

    [Fact]
    public async Task TryClaimAsync_32ConcurrentClaimers_ExactlyOneClaims()
    {
        var key = Unique.Name();
        var stores = Enumerable.Range(0, 4).Select(_ => Backend.CreateStore()).ToArray();

        var claims = await RaceAsync(32, i => stores[i % stores.Length].TryClaimAsync(key, "fp", LongTtl).AsTask());

        claims.Count(c => c.Outcome == ClaimOutcome.Claimed).Should().Be(1);
        claims.Count(c => c.Outcome == ClaimOutcome.InProgress).Should().Be(31);
        var winner = claims.Single(c => c.Outcome == ClaimOutcome.Claimed);
        claims.Should().OnlyContain(c => c.FencingToken == winner.FencingToken, "every loser sees the winner's claim");
        (await GetAsync(key)).Attempt.Should().Be(1);
    }

    [Fact]
    public async Task TryClaimAsync_ConcurrentClaimersOnManyKeys_OneWinnerPerKey()
    {
        var keys = Enumerable.Range(0, 8).Select(i => Unique.Name($"k{i}-")).ToArray();
        var stores = Enumerable.Range(0, 4).Select(_ => Backend.CreateStore()).ToArray();

        var claims = await RaceAsync(keys.Length * 8, async i =>
        {
            var key = keys[i % keys.Length];
            return (Key: key, Claim: await stores[i % stores.Length].TryClaimAsync(key, "fp", LongTtl));
        });

        foreach (var key in keys)
        {
            claims.Count(c => c.Key == key && c.Claim.Outcome == ClaimOutcome.Claimed).Should().Be(1, $"exactly one of 8 racers claims {key}");
        }
    }
}
