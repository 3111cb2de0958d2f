using System.Diagnostics.Metrics;
using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Contention (issue 11): with callers waiting, the pool keeps several acquires in flight (one per
// release, up to MaxAcquiresInFlight), and grants still go to the waiters in arrival order.
public abstract partial class ChannelPoolConformanceTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    [InlineData(8, 4)]
    public async Task AcquireAsync_ReleasesWhileCallersWait_StartOneAcquireEachUpToTheBound_AndServeInArrivalOrder(int bound, int expectedInFlight)
    {
        // 4 channels held by this pool's own callers, 6 more callers waiting. Releasing the 4 starts
        // an acquire per release (up to the bound) at once, not one after another; the grants are held
        // at the backend's reply so the acquires in flight can be counted.
        var name = Unique.Name();
        var faulty = new FaultyLeaseStore(Backend.CreateStore());
        var pool = CreatePool(name, Channels(4), o => o.MaxAcquiresInFlight = bound, store: faulty);
        var held = new List<ChannelLease>();
        for (var i = 0; i < 4; i++)
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
            faulty.HoldGrants = gate.Task;
            foreach (var lease in held)
            {
                await lease.ReleaseAsync();
            }

            await Eventually.TrueAsync(() => faulty.HeldNow >= expectedInFlight, $"{expectedInFlight} acquires in flight at once", TimeSpan.FromSeconds(10));
            faulty.HeldNow.Should().Be(expectedInFlight, "one acquire per release, never more than the bound");
            gate.SetResult();

            // The first four callers get the four channels; the last two still wait.
            var served = await Task.WhenAll(waiters.Take(4)).WaitAsync(TimeSpan.FromSeconds(30));
            served.Select(l => l.ChannelId).Should().OnlyHaveUniqueItems();
            waiters.Skip(4).Should().AllSatisfy(w => w.IsCompleted.Should().BeFalse("a later caller never overtakes an earlier one"));

            await served[0].ReleaseAsync();
            await served[1].ReleaseAsync();
            var late = await Task.WhenAll(waiters.Skip(4)).WaitAsync(TimeSpan.FromSeconds(30));
            late.Select(l => l.ChannelId).Should().BeSubsetOf([served[0].ChannelId, served[1].ChannelId]);
            foreach (var lease in served.Skip(2).Concat(late))
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
