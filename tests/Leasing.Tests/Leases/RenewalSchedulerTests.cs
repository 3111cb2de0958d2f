using FluentAssertions;
using Leasing.InMemory;
using Leasing.Testing;
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

        // Renewals run on the thread pool (never on the shared timer's thread).
        await Eventually.TrueAsync(() => first.ExpiresAt > firstExpiry && second.ExpiresAt > firstExpiry, "the renewal at LeaseDuration/3 ran");
        second.ExpiresAt.Should().Be(first.ExpiresAt);
        await Eventually.TrueAsync(() => RenewalScheduler.For(_time).Count == 2, "each renewed lease is scheduled again");
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

    [Fact]
    public async Task SlowLeaseLostCallback_DoesNotDelayAnotherLeasesDeadline_Issue10()
    {
        await using var pool = NewPool(autoRenew: false);
        var slow = await pool.AcquireAsync();
        var other = await pool.AcquireAsync();
        using var blocked = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        using var registration = slow.LeaseLost.Register(() =>
        {
            entered.Set();
            blocked.Wait(TimeSpan.FromSeconds(30));
        });

        // Both deadlines pass in one timer tick; the first lease's callback blocks.
        var advanced = Task.Run(() => _time.Advance(LeaseDuration));
        try
        {
            await Eventually.TrueAsync(() => other.LeaseLost.IsCancellationRequested, "the other lease's deadline fired while a callback blocked");
            await advanced.WaitAsync(TimeSpan.FromSeconds(10));
            entered.Wait(TimeSpan.FromSeconds(10)).Should().BeTrue("the slow callback ran too");
        }
        finally
        {
            blocked.Set();
        }
    }

    [Fact]
    public async Task SlowRenewal_DoesNotDelayAnotherLeasesDeadline_Issue10()
    {
        using var blocked = new ManualResetEventSlim();
        var store = new BlockingRenewStore(new InMemoryLeaseStore(_time), blocked);
        await using var renewing = new ChannelPool(store, new ChannelPoolOptions { Name = "r", Channels = ["a"], LeaseDuration = LeaseDuration, AutoRenew = true }, _time);
        // The other lease's local deadline (0.9 x 11.5 s = 10.35 s) falls just after the first lease's
        // renewal (LeaseDuration/3 = 10 s): one timer tick at 11 s finds both due, the renewal first.
        await using var manual = new ChannelPool(new InMemoryLeaseStore(_time), new ChannelPoolOptions { Name = "m", Channels = ["b"], LeaseDuration = TimeSpan.FromSeconds(11.5), AutoRenew = false }, _time);
        var slow = await renewing.AcquireAsync();
        var other = await manual.AcquireAsync();

        try
        {
            // The renewal of the first lease blocks its thread (a synchronous driver); the second lease's
            // deadline must still fire on time.
            var advanced = Task.Run(() => _time.Advance(TimeSpan.FromSeconds(11)));
            await Eventually.TrueAsync(() => other.LeaseLost.IsCancellationRequested, "the other lease's deadline fired while a renewal blocked");
            await advanced.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            blocked.Set();
        }

        slow.ChannelId.Should().Be("a");
    }

    [Fact]
    public async Task RenewalThatNeverAnswers_LeaseLostStillFiresAtTheLocalDeadline_Issue10()
    {
        var store = new FaultyLeaseStore(new InMemoryLeaseStore(_time));
        await using var pool = new ChannelPool(store, new ChannelPoolOptions { Name = "s", Channels = ["a"], LeaseDuration = LeaseDuration, AutoRenew = true }, _time);
        var lease = await pool.AcquireAsync();
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.StallRenewals = stalled.Task;

        // The renewal at 10 s stalls (no answer, no error); the local deadline is 27 s.
        _time.Advance(LeaseDuration / 3);
        await Eventually.TrueAsync(() => store.Renewals >= 1, "the renewal was sent");
        _time.Advance(TimeSpan.FromSeconds(16.9));
        lease.LeaseLost.IsCancellationRequested.Should().BeFalse("the deadline has not passed");
        _time.Advance(TimeSpan.FromSeconds(0.2));
        await Eventually.TrueAsync(() => lease.LeaseLost.IsCancellationRequested, "the deadline is watched while a renewal is in flight");
        stalled.SetResult();
    }

    private ChannelPool NewPool(bool autoRenew) => new(
        new InMemoryLeaseStore(_time),
        new ChannelPoolOptions { Name = "p", Channels = ["a", "b", "c"], LeaseDuration = LeaseDuration, AutoRenew = autoRenew },
        _time);
}

/// <summary>A store whose renewals block their thread until released (a synchronous driver that stalls).</summary>
internal sealed class BlockingRenewStore(ILeaseStore inner, ManualResetEventSlim release) : ILeaseStore
{
    public ValueTask<Lease?> RenewAsync(Lease lease, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
        return inner.RenewAsync(lease, ttl, cancellationToken);
    }

    public ValueTask<Lease?> TryAcquireAsync(string key, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.TryAcquireAsync(key, ttl, cancellationToken);

    public ValueTask<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default) => inner.ReleaseAsync(lease, cancellationToken);

    public ValueTask<bool> ReleaseWithCooldownAsync(Lease lease, TimeSpan cooldown, CancellationToken cancellationToken = default) => inner.ReleaseWithCooldownAsync(lease, cooldown, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) => inner.InspectAsync(keys, cancellationToken);

    public ValueTask SetPoolMembersAsync(string pool, IReadOnlyCollection<string> members, long version = 0, CancellationToken cancellationToken = default) => inner.SetPoolMembersAsync(pool, members, version, cancellationToken);

    public ValueTask<IReadOnlyList<string>> GetPoolMembersAsync(string pool, CancellationToken cancellationToken = default) => inner.GetPoolMembersAsync(pool, cancellationToken);

    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, cancellationToken);

    public ValueTask<Lease?> TryAcquireLeastRecentlyUsedAsync(string pool, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) => inner.TryAcquireLeastRecentlyUsedAsync(pool, ttl, membersVersion, cancellationToken);

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, CancellationToken cancellationToken = default) => inner.TryAcquirePoolMemberAsync(pool, member, ttl, cancellationToken);

    public ValueTask<Lease?> TryAcquirePoolMemberAsync(string pool, string member, TimeSpan ttl, long membersVersion, CancellationToken cancellationToken = default) => inner.TryAcquirePoolMemberAsync(pool, member, ttl, membersVersion, cancellationToken);

    public ValueTask<IReadOnlyList<LeaseState>> InspectPoolAsync(string pool, CancellationToken cancellationToken = default) => inner.InspectPoolAsync(pool, cancellationToken);

    public ValueTask<bool> ForceReleaseAsync(string key, string? pool = null, CancellationToken cancellationToken = default) => inner.ForceReleaseAsync(key, pool, cancellationToken);

    public ValueTask<bool> WriteStateAsync(Lease lease, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) => inner.WriteStateAsync(lease, state, cancellationToken);

    public ValueTask<LeaseStateValue?> ReadStateAsync(string key, string? pool = null, CancellationToken cancellationToken = default) => inner.ReadStateAsync(key, pool, cancellationToken);
}
