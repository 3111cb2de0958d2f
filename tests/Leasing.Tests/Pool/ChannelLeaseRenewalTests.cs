using FluentAssertions;
using Leasing.InMemory;
using Leasing.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Pool;

public sealed class ChannelLeaseRenewalTests : IAsyncDisposable
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly FlakyLeaseStore _store;
    private readonly ChannelPool _pool;

    public ChannelLeaseRenewalTests()
    {
        _store = new FlakyLeaseStore(new InMemoryLeaseStore(_time));
        _pool = new ChannelPool(_store, new ChannelPoolOptions { Name = "p", Channels = ["a", "b"], LeaseDuration = LeaseDuration }, _time);
    }

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    [Fact]
    public async Task LeaseLost_BackendUnreachable_FiresAtLocalDeadlineNotBefore()
    {
        var lease = await _pool.AcquireAsync();
        _store.Down = true;

        // Deadline = sent + ttl - ttl/10 = 27 s. The heartbeat at 10 s fails, so does its retry
        // at 12.5 s (interval/4); the deadline does not move.
        _time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => _store.Renews >= 1, "the heartbeat tried");

        // In steps: the failed renew reschedules its retry from the thread pool, after it ended, and a
        // fake clock that jumps while the timer is being armed would carry the retry past the jump.
        var passed = TimeSpan.FromSeconds(10);
        for (var i = 0; i < 8 && _store.Renews < 2; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(0.5));
            passed += TimeSpan.FromSeconds(0.5);
            await Task.WhenAny(Eventually.TrueAsync(() => _store.Renews >= 2, "the retry", TimeSpan.FromSeconds(1)), Task.Delay(1100));
        }

        _store.Renews.Should().BeGreaterThanOrEqualTo(2, "the heartbeat retried sooner after a failure (by 14 s, not at the next 1/3 of the lease)");
        _time.Advance(TimeSpan.FromSeconds(26.9) - passed);
        lease.LeaseLost.IsCancellationRequested.Should().BeFalse("the local deadline has not passed");

        _time.Advance(TimeSpan.FromSeconds(0.2));
        await Eventually.TrueAsync(() => lease.LeaseLost.IsCancellationRequested, "the local deadline passed unconfirmed");
    }

    [Fact]
    public async Task LeaseLost_TransientErrorThenRecovery_DeadlineMovesOnlyOnConfirmedRenew()
    {
        var lease = await _pool.AcquireAsync();
        var expires = lease.ExpiresAt;
        _store.Down = true;
        _time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => _store.Renews >= 1, "the first heartbeat ran");
        lease.ExpiresAt.Should().Be(expires, "a failed renew changes nothing");

        _store.Down = false;

        // In 1 s steps (the failed renew reschedules its retry from the thread pool, after it ended).
        for (var i = 0; i < 10 && lease.ExpiresAt <= expires; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(Eventually.TrueAsync(() => lease.ExpiresAt > expires, "a later heartbeat renews", TimeSpan.FromSeconds(1)), Task.Delay(1100));
        }

        lease.ExpiresAt.Should().BeAfter(expires, "a later heartbeat renews");

        // Confirmed by 20 s at the latest: the deadline is now at least 38 s, so 35 s after the start nothing is lost.
        _store.Down = true;
        _time.Advance(TimeSpan.FromSeconds(15));
        lease.LeaseLost.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task TimeLeft_CountsDownToTheLocalDeadline_MovesOnARenewal_ZeroOnceReleased()
    {
        var lease = await _pool.AcquireAsync();
        lease.TimeLeft.Should().Be(TimeSpan.FromSeconds(27), "acquire sent + ttl - ttl/10");

        _time.Advance(TimeSpan.FromSeconds(5));
        lease.TimeLeft.Should().Be(TimeSpan.FromSeconds(22));

        (await lease.RenewAsync()).Should().BeTrue();
        lease.TimeLeft.Should().Be(TimeSpan.FromSeconds(27), "counted from the renew's sending");

        (await lease.ReleaseAsync()).Should().BeTrue();
        lease.TimeLeft.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task TimeLeft_DeadlinePassedUnconfirmed_IsZero()
    {
        var lease = await _pool.AcquireAsync();
        _store.Down = true;
        _time.Advance(TimeSpan.FromSeconds(28));
        lease.TimeLeft.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task RenewAsync_BackendDown_ThrowsUnavailableAndKeepsLease()
    {
        var lease = await _pool.AcquireAsync();
        _store.Down = true;
        await FluentActions.Awaiting(() => lease.RenewAsync().AsTask()).Should().ThrowAsync<LeaseStoreUnavailableException>();
        _store.Down = false;
        (await lease.RenewAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task ReleaseAsync_BackendDown_ThrowsAndCanBeRetried()
    {
        var lease = await _pool.AcquireAsync();
        _store.Down = true;
        await FluentActions.Awaiting(() => lease.ReleaseAsync().AsTask()).Should().ThrowAsync<LeaseStoreUnavailableException>();
        _store.Down = false;
        (await lease.ReleaseAsync()).Should().BeTrue("the first release did not happen");
    }

    [Fact]
    public async Task AcquireAsync_BackendDown_ThrowsUnavailableAfterTheOutageToleranceNotExhausted()
    {
        await _pool.GetStatusAsync();
        _store.Down = true;
        var call = _pool.AcquireAsync().AsTask();

        // The default OutageTolerance is 2 s, the AcquireTimeout 10 s: the outage is the answer.
        await PassUntilAsync(call, TimeSpan.FromSeconds(3));
        var thrown = await FluentActions.Awaiting(() => call.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<LeaseStoreUnavailableException>();
        thrown.Which.InnerException.Should().BeOfType<LeaseStoreUnavailableException>("the last error is inside");
    }

    [Fact]
    public async Task AcquireAsync_BackendGoesDownWhileWaiting_WaiterGetsUnavailableAfterTheTolerance()
    {
        await using var a = await _pool.AcquireAsync();
        await using var b = await _pool.AcquireAsync();
        var waiting = _pool.AcquireAsync().AsTask();
        _store.Down = true;
        await PassUntilAsync(waiting, TimeSpan.FromSeconds(1.5));
        waiting.IsCompleted.Should().BeFalse("an outage shorter than the tolerance only delays the waiter");

        await PassUntilAsync(waiting, TimeSpan.FromSeconds(2));
        await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<LeaseStoreUnavailableException>();
        _store.Down = false;
    }

    [Fact]
    public async Task AcquireAsync_BackendBlipsWhileWaiting_WaiterStillGetsTheReleasedChannel()
    {
        var a = await _pool.AcquireAsync();
        await using var b = await _pool.AcquireAsync();
        var waiting = _pool.AcquireAsync().AsTask();
        _store.Down = true;
        await PassUntilAsync(waiting, TimeSpan.FromSeconds(1));
        _store.Down = false;
        await a.ReleaseAsync();

        await using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        lease.ChannelId.Should().Be(a.ChannelId);
    }

    /// <summary>Advances the fake clock in 100 ms steps for <paramref name="total"/>, or until <paramref name="task"/> ends.</summary>
    private async Task PassUntilAsync(Task task, TimeSpan total)
    {
        for (var passed = TimeSpan.Zero; passed < total && !task.IsCompleted; passed += TimeSpan.FromMilliseconds(100))
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(task, Task.Delay(5));
        }
    }

    [Fact]
    public async Task Heartbeat_HandleDroppedWithoutDispose_StopsRenewingAndLeaseExpires()
    {
        await AcquireAndDropAsync();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        _time.Advance(TimeSpan.FromSeconds(10)); // the heartbeat wakes, finds the handle gone, stops
        _time.Advance(TimeSpan.FromSeconds(25));
        var status = await _pool.GetStatusAsync();
        status.Single(s => s.ChannelId == "a").Status.Should().Be(LeaseStatus.Free, "nobody renewed the dropped lease");
        _store.Renews.Should().Be(0, "the heartbeat of a dropped handle does not renew");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task AcquireAndDropAsync()
    {
        var lease = await _pool.TryAcquireChannelAsync("a");
        lease.Should().NotBeNull();
    }

    [Fact]
    public async Task DisposeAsync_Pool_FailsWaitersWithObjectDisposed()
    {
        await using var a = await _pool.AcquireAsync();
        await using var b = await _pool.AcquireAsync();
        var waiting = _pool.AcquireAsync().AsTask();
        await _pool.DisposeAsync();
        await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<ObjectDisposedException>();
        await FluentActions.Awaiting(() => _pool.AcquireAsync().AsTask()).Should().ThrowAsync<ObjectDisposedException>();
    }
}
