using FluentAssertions;
using Leasing.InMemory;
using Leasing.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Leasing.Tests.Pool;

public sealed class ChannelPoolTimeoutTests
{
    [Fact]
    public async Task AcquireAsync_SlowFirstTry_AcquireTimeoutCountsFromTheCall_Issue10()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryLeaseStore(time);
        var faulty = new FaultyLeaseStore(store);
        await using var holderPool = new ChannelPool(store, new ChannelPoolOptions { Name = "p", Channels = ["only"] }, time);
        await using var pool = new ChannelPool(faulty, new ChannelPoolOptions { Name = "p", Channels = ["only"], AcquireTimeout = TimeSpan.FromSeconds(10) }, time);
        await using var held = await holderPool.AcquireAsync();
        (await pool.GetStatusAsync()).Should().ContainSingle();

        // The first try takes 6 s (a slow round trip) and finds the channel busy.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        faulty.HoldReplies = gate.Task;
        var call = pool.AcquireAsync().AsTask();
        (await faulty.FirstHeldGrant.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeNull("the channel is held");
        time.Advance(TimeSpan.FromSeconds(6));
        gate.SetResult();
        await Eventually.TrueAsync(() => faulty.Acquires >= 2, "the caller queued and the poller tried");

        // 4 s later the 10 s from the call are up.
        time.Advance(TimeSpan.FromSeconds(4) + TimeSpan.FromMilliseconds(1));
        await call.Awaiting(c => c.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<ChannelPoolExhaustedException>("the timeout runs from the call, not from the end of the first try");
    }
}
