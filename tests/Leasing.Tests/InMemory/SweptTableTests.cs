using FluentAssertions;
using Leasing.InMemory;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.InMemory;

/// <summary>Memory stays bounded by the keys in use, and a swept key's fencing still grows.</summary>
public sealed class SweptTableTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task SingleKeys_ReleasedAndBehindTheClock_AreSweptAndTheirFencingStillGrows()
    {
        var store = new InMemoryLeaseStore(_time);
        var first = await store.TryAcquireAsync("key-0", TimeSpan.FromSeconds(1));
        (await store.ReleaseAsync(first!)).Should().BeTrue();
        for (var i = 1; i < 3_000; i++)
        {
            var lease = await store.TryAcquireAsync($"key-{i}", TimeSpan.FromSeconds(1));
            (await store.ReleaseAsync(lease!)).Should().BeTrue();
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        store.SingleKeyEntryCount.Should().BeLessThan(3_000, "released keys whose fencing is behind the clock were swept");
        var again = await store.TryAcquireAsync("key-0", TimeSpan.FromSeconds(1));
        again!.FencingToken.Should().BeGreaterThan(first!.FencingToken, "the clock term keeps a swept key's fencing growing");
    }

    [Fact]
    public async Task SingleKeys_Held_AreNeverSwept()
    {
        var store = new InMemoryLeaseStore(_time);
        for (var i = 0; i < 3_000; i++)
        {
            (await store.TryAcquireAsync($"held-{i}", TimeSpan.FromHours(1))).Should().NotBeNull();
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        store.SingleKeyEntryCount.Should().Be(3_000);
        (await store.TryAcquireAsync("held-0", TimeSpan.FromHours(1))).Should().BeNull("the lease survived every sweep");
    }

    [Fact]
    public async Task IdempotencyKeys_EvictedAndBehindTheClock_AreSwept()
    {
        var store = new InMemoryIdempotencyStore(_time);
        for (var i = 0; i < 3_000; i++)
        {
            var claim = await store.TryClaimAsync($"op-{i}", "fp", TimeSpan.FromSeconds(1));
            claim.Outcome.Should().Be(ClaimOutcome.Claimed);
            (await store.EvictAsync($"op-{i}")).Should().BeTrue();
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        store.EntryCount.Should().BeLessThan(3_000);
    }
}
