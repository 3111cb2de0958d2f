using FluentAssertions;
using Leasing.Cli.Chaos;
using Xunit;

namespace Leasing.Cli.Tests.Chaos;

/// <summary>
/// The clock watch of <c>leasing chaos</c> on fake clocks (a monotonic one in nanoseconds, as Stopwatch on Linux,
/// and a wall clock): steps of the wall clock against the monotonic one are recorded with their size, sign and the
/// samples they fell between; clocks moving together, a drift below the threshold and a preempted sample are not.
/// </summary>
public sealed class ClockWatchTests
{
    private const long Frequency = 1_000_000_000;

    private readonly List<ChaosClockStep> _steps = [];
    private long _monotonic = 5_000_000_000_000;
    private DateTime _wall = new(2026, 12, 3, 17, 0, 0, DateTimeKind.Utc);
    private TimeSpan _passesPerRead;

    [Fact]
    public void Sample_ClocksMovingTogether_RecordsNothing()
    {
        var watch = Watch();
        for (var i = 0; i < 100; i++)
        {
            watch.Sample().Should().BeNull();
            Pass(TimeSpan.FromMilliseconds(10));
        }

        _steps.Should().BeEmpty();
    }

    [Fact]
    public void Sample_WallClockJumpsForward_RecordsTheStepBetweenTwoSamples()
    {
        var watch = Watch();
        watch.Sample();
        var before = _monotonic;
        Pass(TimeSpan.FromMilliseconds(5));
        _wall += TimeSpan.FromSeconds(1.5);

        var step = watch.Sample();

        step.Should().Be(new ChaosClockStep(before, before + 5_000_000, 1_500_000_000));
        _steps.Should().Equal(step);
        Pass(TimeSpan.FromMilliseconds(5));
        watch.Sample().Should().BeNull("the step is recorded once; the clocks move together again");
    }

    [Fact]
    public void Sample_WallClockJumpsBack_RecordsANegativeStep()
    {
        var watch = Watch();
        watch.Sample();
        Pass(TimeSpan.FromMilliseconds(5));
        _wall -= TimeSpan.FromSeconds(57);

        watch.Sample()!.Size.Should().Be(-57_000_000_000);
    }

    [Fact]
    public void Sample_DriftBelowTheThresholdThenPastIt_RecordsOneStepForTheWholeDrift()
    {
        var watch = Watch();
        watch.Sample();
        for (var i = 0; i < 19; i++)
        {
            Pass(TimeSpan.FromMilliseconds(5));
            _wall += TimeSpan.FromMilliseconds(1);
            watch.Sample().Should().BeNull("19 ms apart is below the 20 ms threshold");
        }

        Pass(TimeSpan.FromMilliseconds(5));
        _wall += TimeSpan.FromMilliseconds(1);

        watch.Sample()!.Size.Should().Be(20_000_000, "the clocks moved 20 ms apart since the reference");
    }

    [Fact]
    public void Sample_PreemptedBetweenItsMonotonicReads_SkippedAndTheStepMeasuredByTheNextSample()
    {
        var watch = Watch();
        watch.Sample();
        var lastGood = _monotonic;
        _wall += TimeSpan.FromSeconds(1);
        _passesPerRead = TimeSpan.FromMilliseconds(2);

        watch.Sample().Should().BeNull("its two monotonic reads lie 2 ms apart: the wall clock read could be anywhere in them");

        _passesPerRead = TimeSpan.Zero;
        var step = watch.Sample();
        step!.Size.Should().Be(1_000_000_000);
        step.From.Should().Be(lastGood, "the skipped sample does not count as the one before");
    }

    private ClockWatch Watch() => new(_steps.Add, ReadMonotonic, () => _wall, Frequency);

    // Each read of the monotonic clock lets _passesPerRead pass on both clocks (a thread preempted mid-sample).
    private long ReadMonotonic()
    {
        var now = _monotonic;
        Pass(_passesPerRead);
        return now;
    }

    private void Pass(TimeSpan span)
    {
        _monotonic += span.Ticks * 100;
        _wall += span;
    }
}
