using System.Diagnostics.Metrics;
using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Contention (issue 11): with callers waiting, the pool keeps several acquires in flight (one per
// release, up to MaxAcquiresInFlight), and grants still go to the waiters in arrival order.
public abstract partial class ChannelPoolConformanceTests
{
    [Theory]
    [InlineData(1, 4, 1)]
    [InlineData(4, 6, 4)]
    [InlineData(8, 2, 2)]
    public async Task AcquireAsync_ReleasesWhileCallersWait_StartOneAcquireEachUpToTheBound_AndServeInArrivalOrder(int bound, int released, int expectedInFlight)
    {
        // 8 channels held by another instance of the pool (another process), 6 callers waiting here.
        // Each release there reaches this instance as the backend's release signal and starts one
        // acquire per release (never more, never past the bound) at once, not one after another.
        // Every reply is held at the gate, so the acquires in flight can be counted exactly.
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        // No timed probes (an hour's busy delay): every acquire after the first probe comes from a release.
        var pool = CreatePool(name, Channels(8), o => (o.MaxAcquiresInFlight, o.RetryMinDelay, o.RetryMaxDelay) = (bound, TimeSpan.FromHours(1), TimeSpan.FromHours(1)), store: faulty);
        var elsewhere = CreatePool(name, Channels(8));
        var held = new List<ChannelLease>();
        for (var i = 0; i < 8; i++)
        {
            held.Add(await elsewhere.AcquireAsync());
        }

        var (listener, waiting) = WatchWaiting(name);
        using var _ = listener;
        var waiters = await QueueCallersAsync(pool, waiting, 6);

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            // The first caller's own try and the poller's first probe were sent (before the gate).
            await Eventually.TrueAsync(() => faulty.Acquires >= 2, "the poller probed once");
            faulty.HoldReplies = gate.Task;
            var before = faulty.Acquires;
            foreach (var lease in held.Take(released))
            {
                await lease.ReleaseAsync();
            }

            await Eventually.TrueAsync(() => faulty.HeldNow >= expectedInFlight, $"{expectedInFlight} acquires in flight at once", TimeSpan.FromSeconds(10));
            faulty.HeldNow.Should().Be(expectedInFlight, $"one acquire per release, never past the bound");
            (faulty.Acquires - before).Should().Be(expectedInFlight, "no acquire was sent beyond those in flight");
            gate.SetResult();

            // The first callers get the released channels, in arrival order; the others still wait.
            var servedCount = Math.Min(released, waiters.Count);
            var served = await Task.WhenAll(waiters.Take(servedCount)).WaitAsync(TimeSpan.FromSeconds(30));
            served.Select(l => l.ChannelId).Should().OnlyHaveUniqueItems();
            waiters.Skip(servedCount).Where(w => w.IsCompleted).Should().BeEmpty("a later caller never overtakes an earlier one");

            foreach (var lease in served.Concat(held.Skip(released)))
            {
                await lease.ReleaseAsync();
            }

            var late = await Task.WhenAll(waiters.Skip(servedCount)).WaitAsync(TimeSpan.FromSeconds(30));
            foreach (var lease in late)
            {
                await lease.ReleaseAsync();
            }
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task ReleaseAsync_CallersWaitHere_HandsTheChannelOnInOneCallInArrivalOrder()
    {
        // Two channels held here, three callers queued. Each release carries the next acquire (one store
        // call: ReleaseAndAcquireLeastRecentlyUsedAsync) and its channel goes to the first caller waiting.
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var pool = CreatePool(name, Channels(2), o => (o.RetryMinDelay, o.RetryMaxDelay) = (TimeSpan.FromHours(1), TimeSpan.FromHours(1)), store: faulty);
        var a = await pool.AcquireAsync();
        var b = await pool.AcquireAsync();
        var (listener, waiting) = WatchWaiting(name);
        using var _ = listener;
        var waiters = await QueueCallersAsync(pool, waiting, 3);
        await Eventually.TrueAsync(() => faulty.Acquires >= 4, "the poller probed once");

        (await a.ReleaseAsync()).Should().BeTrue();
        var first = await waiters[0].WaitAsync(TimeSpan.FromSeconds(30));
        first.ChannelId.Should().Be(a.ChannelId, "the released channel was the only free one");
        first.FencingToken.Should().BeGreaterThan(a.FencingToken);
        waiters.Skip(1).Where(w => w.IsCompleted).Should().BeEmpty("one release serves one caller, the first to arrive");
        faulty.HandOffs.Should().Be(1, "the release carried the acquire (one round trip where the backend does both in one step)");

        (await b.ReleaseAsync()).Should().BeTrue();
        var second = await waiters[1].WaitAsync(TimeSpan.FromSeconds(30));
        waiters[2].IsCompleted.Should().BeFalse();
        (await first.ReleaseAsync()).Should().BeTrue();
        var third = await waiters[2].WaitAsync(TimeSpan.FromSeconds(30));
        faulty.HandOffs.Should().Be(3);
        (await a.ReleaseAsync()).Should().BeFalse("a released lease stays released");

        // Nobody waits any more: plain releases.
        (await second.ReleaseAsync()).Should().BeTrue();
        (await third.ReleaseAsync()).Should().BeTrue();
        faulty.HandOffs.Should().Be(3);

        // A probe the poller had in flight for the release signals may still claim a channel after the last
        // caller was served; it gives it back at once (nobody is left to take it), well before its lease could
        // expire, so nothing stays held.
        await Eventually.TrueAsync(
            () => pool.GetStatusAsync().AsTask().GetAwaiter().GetResult().All(s => s.Status == LeaseStatus.Free),
            "every channel is free once the callers released, within half a lease",
            Backend.Ttl / 2);
    }

    [Fact]
    public async Task ReleaseAsync_HandOverAnsweredPastItsLocalDeadline_TheReleaseSucceedsAndTheGrantGoesBack()
    {
        // The combined call released the lease and claimed the channel for the waiter, but its reply came
        // past the claim's local deadline (the app's clock jumped: a paused process). The claim is given
        // back, never handed out; the release itself happened and says so; the waiter is served later.
        // The pool runs on its own clock (real time that can jump), whatever clock the backend has.
        var clock = new JumpingTimeProvider();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var pool = CreatePool(Unique.Name(), Channels(1), store: faulty, time: clock);
        var held = await pool.AcquireAsync();
        var (listener, waiting) = WatchWaiting(pool.Name);
        using var _ = listener;
        var waiters = await QueueCallersAsync(pool, waiting, 1);
        faulty.AfterHandOff = () => clock.Jump(Backend.Ttl);

        (await held.ReleaseAsync()).Should().BeTrue("the release happened; only the claim for the waiter came too late");
        faulty.HandOffs.Should().Be(1);
        faulty.AfterHandOff = null;

        var served = await waiters[0].WaitAsync(TimeSpan.FromSeconds(30));
        served.FencingToken.Should().BeGreaterThan(held.FencingToken);
        await served.ReleaseAsync();
    }

    [Fact]
    public async Task ReleaseAsync_HandOverFailsWithoutReachingTheBackend_TheReleaseCanBeRepeatedAndTheWaiterIsServed()
    {
        // The combined call fails before it reaches the backend: the caller is told, the lease is still
        // held (nothing changed), and a repeated release hands the channel on.
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var pool = CreatePool(Unique.Name(), Channels(1), store: faulty);
        var held = await pool.AcquireAsync();
        var (listener, waiting) = WatchWaiting(pool.Name);
        using var _ = listener;
        var waiters = await QueueCallersAsync(pool, waiting, 1);

        faulty.Down = true;
        await held.Awaiting(h => h.ReleaseAsync().AsTask()).Should().ThrowAsync<LeaseStoreUnavailableException>();
        faulty.Down = false;
        waiters[0].IsCompleted.Should().BeFalse("the channel was not released");

        (await held.ReleaseAsync()).Should().BeTrue("the release may be repeated");
        var served = await waiters[0].WaitAsync(TimeSpan.FromSeconds(30));
        served.ChannelId.Should().Be(held.ChannelId);
        faulty.HandOffs.Should().Be(2);
        await served.ReleaseAsync();
    }

    /// <summary>Listens to the pool's "waiting" up-down counter: how many callers are queued now.</summary>
    private static (MeterListener Listener, Func<long> Waiting) WatchWaiting(string name)
    {
        var waiting = new long[1];
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LeasingTelemetry.Name && instrument.Name == "leasing.pool.waiting")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == LeasingTelemetry.PoolTag && tag.Value as string == name)
                {
                    Interlocked.Add(ref waiting[0], value);
                }
            }
        });
        listener.Start();
        return (listener, () => Interlocked.Read(ref waiting[0]));
    }

    /// <summary>Queues <paramref name="count"/> callers; arrival order is the call order (each has queued before the next calls).</summary>
    private static async Task<List<Task<ChannelLease>>> QueueCallersAsync(ChannelPool pool, Func<long> waiting, int count)
    {
        var waiters = new List<Task<ChannelLease>>();
        var before = waiting();
        for (var i = 0; i < count; i++)
        {
            waiters.Add(pool.AcquireAsync().AsTask());
            var queued = before + i + 1;
            await Eventually.TrueAsync(() => waiting() == queued, $"caller {i} queued");
        }

        return waiters;
    }
}
