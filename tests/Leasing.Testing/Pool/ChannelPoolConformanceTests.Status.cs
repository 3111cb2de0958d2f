using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

// Coalesced status reads (issue 11): concurrent GetStatusAsync calls on one pool share one backend
// round trip. A gate holds the shared read's reply, so the calls really overlap (no sleeps).
public abstract partial class ChannelPoolConformanceTests
{
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GetStatusAsync_50ConcurrentCalls_ShareOneBackendRead_ACallAfterItCompletedReadsAgain_Issue11()
    {
        var (pool, store, gate) = await PoolWithHeldStatusReadsAsync(Unique.Name(), 3);
        var before = store.StatusReads;
        var lease = await pool.AcquireAsync();

        // Each call joins the read in flight, or starts it, before it returns; the gate keeps the first
        // read (it ran on the backend, its reply is held) in flight until all 50 calls were made.
        var calls = Enumerable.Range(0, 50).Select(_ => pool.GetStatusAsync().AsTask()).ToArray();
        await store.FirstHeldStatusRead.WaitAsync(StatusWait);
        calls.Should().OnlyContain(c => !c.IsCompleted, "the shared read is held at the gate");
        gate.SetResult();
        var results = await Task.WhenAll(calls).WaitAsync(StatusWait);

        store.StatusReads.Should().Be(before + 1, "50 concurrent status calls share one backend read");
        results.Should().AllSatisfy(r =>
        {
            r.Should().HaveCount(3);
            r.Single(s => s.Status == LeaseStatus.Held).ChannelId.Should().Be(lease.ChannelId);
        });
        results.Distinct<object>(ReferenceEqualityComparer.Instance).Should().HaveCount(50, "each caller gets a list of its own");

        // The shared read completed: the next call makes a new one.
        store.HoldStatusReads = null;
        (await pool.GetStatusAsync()).Should().HaveCount(3);
        store.StatusReads.Should().Be(before + 2, "a call after the shared read completed reads again");
        await lease.DisposeAsync();
    }

    [Fact]
    public async Task GetStatusAsync_ACallerCancels_OnlyItsWaitEnds_TheSharedReadEndsWhenEveryCallerLeft_Issue11()
    {
        var name = Unique.Name();

        // One caller of two leaves: the other still gets the shared read's answer.
        var (pool, store, gate) = await PoolWithHeldStatusReadsAsync(name, 2);
        var before = store.StatusReads;
        using var leaving = new CancellationTokenSource();
        var left = pool.GetStatusAsync(leaving.Token).AsTask();
        var staying = pool.GetStatusAsync().AsTask();
        await store.FirstHeldStatusRead.WaitAsync(StatusWait);
        await leaving.CancelAsync();
        await left.Awaiting(t => t.WaitAsync(StatusWait)).Should().ThrowAsync<OperationCanceledException>();
        staying.IsCompleted.Should().BeFalse("another caller's cancellation does not end this caller's wait");
        gate.SetResult();
        (await staying.WaitAsync(StatusWait)).Should().HaveCount(2, "the shared read went on for the caller that stayed");
        store.StatusReads.Should().Be(before + 1);
        store.StatusReadsCancelled.Should().Be(0, "the shared read was not cancelled while a caller waited for it");

        // Every caller leaves: the shared read is cancelled, and the next call starts a new one.
        var (second, other, closed) = await PoolWithHeldStatusReadsAsync(name, 2);
        var otherBefore = other.StatusReads;
        using var everyone = new CancellationTokenSource();
        var a = second.GetStatusAsync(everyone.Token).AsTask();
        var b = second.GetStatusAsync(everyone.Token).AsTask();
        await other.FirstHeldStatusRead.WaitAsync(StatusWait);
        await everyone.CancelAsync();
        await a.Awaiting(t => t.WaitAsync(StatusWait)).Should().ThrowAsync<OperationCanceledException>();
        await b.Awaiting(t => t.WaitAsync(StatusWait)).Should().ThrowAsync<OperationCanceledException>();
        await other.FirstCancelledStatusRead.WaitAsync(StatusWait);

        var next = second.GetStatusAsync().AsTask();
        other.StatusReads.Should().Be(otherBefore + 2, "the abandoned read is not joined: the next call reads again");
        closed.SetResult();
        (await next.WaitAsync(StatusWait)).Should().HaveCount(2);
    }

    /// <summary>A pool over a store of its own whose status replies, from now on, wait for the returned gate (the member list is already written).</summary>
    private async Task<(ChannelPool Pool, FaultyLeaseStore Store, TaskCompletionSource Gate)> PoolWithHeldStatusReadsAsync(string name, int channels)
    {
        var store = new FaultyLeaseStore(Backend.CreateStore());
        var pool = CreatePool(name, Channels(channels), store: store);
        (await pool.GetStatusAsync()).Should().HaveCount(channels, "the member list is written before the gate closes");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.HoldStatusReads = gate.Task;
        return (pool, store, gate);
    }
}
