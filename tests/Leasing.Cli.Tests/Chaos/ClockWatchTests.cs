using FluentAssertions;
using Leasing.Cli.Chaos;
using Xunit;

namespace Leasing.Cli.Tests.Chaos;

/// <summary>
/// The clock watch of <c>leasing chaos</c> on fake clocks (a monotonic one in microseconds and a wall clock):
/// steps of the wall clock against the monotonic one are recorded with their size and sign; jitter, slewing
/// below the threshold and a preempted sample are not.
/// </summary>
public sealed class ClockWatchTests
{
    private const long Frequency = 1_000_000;
    private static readonly DateTime Start = new(2026, 12, 3, 17, 0, 0, DateTimeKind.Utc);

    private long _monotonic = 5_000_000;
    private long _monotonicAdvancePerRead;
    private DateTime _wall = Start;
    private readonly List<ChaosClockStep> _steps = [];

    [Fact]
    public void Sample_ClocksMovingTogether_RecordsNothing()
    {
        var watch = Watch();
        for (var i = 0; i < 100; i++)
        {
            watch.Sample().Should().BeNull();
            Advance(TimeSpan.FromMilliseconds(10));
        }

        _steps.Should().BeEmpty();
    }

    [Fact]
    public void Sample_WallClockJumpsForward_RecordsTheStepWithItsSize()
    {
        var watch = Watch();
        watch.Sample();
        Advance(TimeSpan.FromMilliseconds(10));
        _wall += TimeSpan.FromSeconds(1.5);

        var step = watch.Sample();

        step.Should().NotBeNull();
        step!.Size.Should().Be(1_500_000, "1.5 s in the monotonic clock's ticks");
        step.At.Should().Be(_monotonic);
        _steps.Should().Equal(step);
        watch.Sample().Should().BeNull("the step is recorded once; the clocks move together again");
    }

    [Fact]
    public void Sample_WallClockJumpsBack_RecordsANegativeStep()
    {
        var watch = Watch();
        watch.Sample();
        Advance(TimeSpan.FromMilliseconds(10));
        _wall -= TimeSpan.FromSeconds(57);

        watch.Sample()!.Size.Should().Be(-57_000_000);
    }

    [Fact]
    public void Sample_SmallJitterThenADriftPastTheThreshold_RecordsOneStepForTheDrift()
    {
        var watch = Watch();
        watch.Sample();
        for (var i = 0; i < 19; i++)
        {
            Advance(TimeSpan.FromMilliseconds(10));
            _wall += TimeSpan.FromMilliseconds(1);
            watch.Sample().Should().BeNull("19 ms apart is below the 20 ms threshold");
        }

        Advance(TimeSpan.FromMilliseconds(10));
        _wall += TimeSpan.FromMilliseconds(1);

        watch.Sample()!.Size.Should().Be(20_000, "the clocks moved 20 ms apart since the reference");
    }

    [Fact]
    public void Sample_PreemptedBetweenTheMonotonicReads_SkippedAndLaterStepStillSeen()
    {
        var watch = Watch();
        watch.Sample();
        _wall += TimeSpan.FromSeconds(1);
        _monotonicAdvancePerRead = 2_000; // 2 ms between the two monotonic reads

        watch.Sample().Should().BeNull("a sample whose reads lie 2 ms apart cannot measure a step precisely");

        _monotonicAdvancePerRead = 0;
        watch.Sample()!.Size.Should().Be(1_000_000 - 4_000, "the step is measured against the last reference (the skipped sample moved the monotonic clock 4 ms)");
    }

    private ClockWatch Watch() => new(_steps.Add, ReadMonotonic, () => _wall, Frequency);

    private long ReadMonotonic()
    {
        var now = _monotonic;
        _monotonic += _monotonicAdvancePerRead;
        return now;
    }

    private void Advance(TimeSpan by)
    {
        _monotonic += by.Ticks / 10;
        _wall += by;
    }
}
