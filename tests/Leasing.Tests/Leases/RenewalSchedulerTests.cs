using FluentAssertions;
using Leasing.InMemory;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Leases;

public sealed class RenewalSchedulerTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task ReleasedLeases_LeaveNothingScheduled()
    {
        await using var pool = NewPool(autoRenew: true);
        for (var i = 0; i < 1_000; i++)
        {
            await using var lease = await pool.AcquireAsync();
        }

        RenewalScheduler.For(_time).Count.Should().Be(0, "a released lease is taken off the schedule at once");
    }

    [Fact]
    public async Task HeldLeases_AreScheduledOnceEach_AndRenewedOnTime()
    {
        await using var pool = NewPool(autoRenew: true);
        var first = await pool.AcquireAsync();
        var second = await pool.AcquireAsync();
        RenewalScheduler.For(_time).Count.Should().Be(2);
        var firstExpiry = first.ExpiresAt;

        _time.Advance(LeaseDuration / 3);

        first.ExpiresAt.Should().BeAfter(firstExpiry, "the renewal at LeaseDuration/3 ran");
        second.ExpiresAt.Should().Be(first.ExpiresAt);
        RenewalScheduler.For(_time).Count.Should().Be(2, "each renewed lease is scheduled again");
        first.LeaseLost.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task ReleasedLease_LeaseLostNeverFiresAfterwards()
    {
        await using var pool = NewPool(autoRenew: false);
        var lease = await pool.AcquireAsync();
        var lost = lease.LeaseLost;
        (await lease.ReleaseAsync()).Should().BeTrue();

        _time.Advance(LeaseDuration * 2);

        lost.IsCancellationRequested.Should().BeFalse("the lease was released, not lost");
    }

    [Fact]
    public async Task ManualLease_LeaseLostReadLate_IsAlreadyCancelledAfterTheDeadline()
    {
        await using var pool = NewPool(autoRenew: false);
        var lease = await pool.AcquireAsync();

        _time.Advance(LeaseDuration);

        lease.LeaseLost.IsCancellationRequested.Should().BeTrue("the deadline passed without a renew, even though nobody held the token");
    }

    private ChannelPool NewPool(bool autoRenew) => new(
        new InMemoryLeaseStore(_time),
        new ChannelPoolOptions { Name = "p", Channels = ["a", "b", "c"], LeaseDuration = LeaseDuration, AutoRenew = autoRenew },
        _time);
}
