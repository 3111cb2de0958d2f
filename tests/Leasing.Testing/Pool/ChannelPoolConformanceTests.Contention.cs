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
        // 8 channels held by this pool's own callers, 6 more callers waiting. Releasing some of the 8
        // starts one acquire per release (never more, never past the bound) at once, not one after
        // another. Every reply is held at the gate, so the acquires in flight can be counted exactly.
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        // No timed probes (an hour's busy delay): every acquire after the first probe comes from a release.
        var pool = CreatePool(name, Channels(8), o => (o.MaxAcquiresInFlight, o.RetryMinDelay, o.RetryMaxDelay) = (bound, TimeSpan.FromHours(1), TimeSpan.FromHours(1)), store: faulty);
        var held = new List<ChannelLease>();
        for (var i = 0; i < 8; i++)
        {
            held.Add(await pool.AcquireAsync());
        }

        // The pool's "waiting" gauge (an up-down counter) says when a caller has queued.
        long waiting = 0;
        using var listener = new MeterListener();
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
                    Interlocked.Add(ref waiting, value);
                }
            }
        });
        listener.Start();

        var waiters = new List<Task<ChannelLease>>();
        for (var i = 0; i < 6; i++)
        {
            // Arrival order is the call order: each caller has queued before the next one calls.
            waiters.Add(pool.AcquireAsync().AsTask());
            var queued = i + 1;
            await Eventually.TrueAsync(() => Interlocked.Read(ref waiting) == queued, $"caller {i} queued");
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            // 8 grants, the first caller's own try and the poller's first probe were sent (before the gate).
            await Eventually.TrueAsync(() => faulty.Acquires >= 10, "the poller probed once");
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
}
