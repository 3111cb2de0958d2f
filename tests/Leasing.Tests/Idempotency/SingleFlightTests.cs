using FluentAssertions;
using Xunit;

namespace Leasing.Tests.Idempotency;

public sealed class SingleFlightTests
{
    private readonly SingleFlight<string, object, int> flights = new(static _ => new object(), StringComparer.Ordinal);

    [Fact]
    public async Task Join_ConcurrentCallers_ShareOneWork()
    {
        var runs = 0;
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tickets = Enumerable.Range(0, 20).Select(_ => flights.Join("k", _ =>
        {
            Interlocked.Increment(ref runs);
            return gate.Task;
        })).ToArray();

        gate.SetResult(7);
        var results = await Task.WhenAll(tickets.Select(t => t.Flight.Completion));

        runs.Should().Be(1);
        results.Should().OnlyContain(r => r == 7);
        tickets.Count(t => t.IsCreator).Should().Be(1);
        flights.Count.Should().Be(0, "a finished flight leaves the map");
        foreach (var ticket in tickets)
        {
            ticket.Dispose();
        }
    }

    [Fact]
    public async Task Leave_LastCallerOfAnUnpinnedFlight_CancelsItsTokenAndTheNextCallerStartsAnew()
    {
        CancellationToken workToken = default;
        var first = flights.Join("k", flight =>
        {
            workToken = flight.CancellationToken;
            return Task.Delay(Timeout.Infinite, flight.CancellationToken).ContinueWith(_ => 1, TaskScheduler.Default);
        });
        var second = flights.Join("k", _ => throw new InvalidOperationException("joins, never starts"));

        first.Dispose();
        workToken.IsCancellationRequested.Should().BeFalse("one caller is still there");
        second.Dispose();
        second.Dispose();

        workToken.IsCancellationRequested.Should().BeTrue("every caller left");
        using var third = flights.Join("k", _ => Task.FromResult(3));
        third.IsCreator.Should().BeTrue("an abandoned flight is not joined");
        (await third.Flight.Completion).Should().Be(3);
    }

    [Fact]
    public async Task Pin_FlightRunsOnAfterEveryCallerLeft()
    {
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationToken workToken = default;
        var ticket = flights.Join("k", flight =>
        {
            workToken = flight.CancellationToken;
            flight.Pin().Should().BeTrue();
            return release.Task;
        });

        ticket.Dispose();

        workToken.IsCancellationRequested.Should().BeFalse("a pinned flight is not abandoned");
        using var late = flights.Join("k", _ => throw new InvalidOperationException("joins the pinned flight"));
        late.IsCreator.Should().BeFalse();
        release.SetResult(9);
        (await late.Flight.Completion).Should().Be(9);
    }

    [Fact]
    public async Task Invalidate_RunningFlightIsNoLongerCurrentAndNewCallersStartAnew()
    {
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stale = flights.Join("k", _ => release.Task);
        stale.Flight.IsCurrent.Should().BeTrue();

        flights.Invalidate("k").Should().BeTrue();

        stale.Flight.IsCurrent.Should().BeFalse("a load that started before an invalidation must not store its result");
        using var fresh = flights.Join("k", _ => Task.FromResult(2));
        fresh.IsCreator.Should().BeTrue();
        (await fresh.Flight.Completion).Should().Be(2);
        fresh.Flight.IsCurrent.Should().BeTrue();
        release.SetResult(1);
        (await stale.Flight.Completion).Should().Be(1);
        flights.Invalidate("k").Should().BeFalse("nothing runs for the key now");
    }

    [Fact]
    public async Task Invalidate_Matching_AllAreNoLongerCurrent_UnpinnedDetached_PinnedStillJoinable()
    {
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var loading = flights.Join("a", _ => release.Task);
        using var running = flights.Join("b", flight =>
        {
            flight.Pin().Should().BeTrue();
            return release.Task;
        });
        using var other = flights.Join("c", _ => release.Task);

        flights.Invalidate(k => k is "a" or "b");

        loading.Flight.IsCurrent.Should().BeFalse();
        running.Flight.IsCurrent.Should().BeFalse("a pinned flight's result is stale too, though it goes on");
        other.Flight.IsCurrent.Should().BeTrue("its key did not match");
        using (var fresh = flights.Join("a", _ => Task.FromResult(2)))
        {
            fresh.IsCreator.Should().BeTrue("the unpinned flight was detached");
        }

        using (var late = flights.Join("b", _ => throw new InvalidOperationException("joins the pinned flight")))
        {
            late.IsCreator.Should().BeFalse("a pinned flight stays joinable: a second one would do its work beside it");
        }

        release.SetResult(1);
        (await running.Flight.Completion).Should().Be(1);
    }

    [Fact]
    public async Task Join_FailingWork_FaultsEveryCaller()
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var a = flights.Join("k", _ => gate.Task);
        using var b = flights.Join("k", _ => gate.Task);
        gate.SetException(new IOException("down"));

        await FluentActions.Awaiting(() => a.Flight.Completion).Should().ThrowAsync<IOException>();
        await FluentActions.Awaiting(() => b.Flight.Completion).Should().ThrowAsync<IOException>();
        flights.Count.Should().Be(0);
    }
}
