using System.Diagnostics;

namespace Leasing.Cli.Chaos;

/// <summary>
/// Watches this host's wall clock against its monotonic clock while a chaos run lasts, and journals every
/// step of one against the other (<see cref="ChaosClockStep"/>).
/// </summary>
/// <remarks>
/// Redis (<c>TIME</c>) and PostgreSQL (<c>clock_timestamp()</c>) decide expiry by the server's wall clock,
/// while each holder's deadline runs on the monotonic clock. A step of the wall clock (an NTP step, a virtual
/// machine's time sync) moves the end of every lease on the server by the step: a forward step ends them early,
/// so a successor can be granted a key before its holder's local deadline (for up to the step; fencing tokens
/// still order them), and a backward step keeps keys held for longer. The checks must tell such overlaps from
/// the library's own. The servers of a run with private servers (and CI's) run on this host, so this host's
/// clock is theirs; a server the user named on another host has its own clock, which this watch cannot see.
/// <para>A step is recorded when the offset between the clocks has moved by <see cref="Threshold"/> since the
/// last one recorded (or the first sample): a sudden step shows as one, a fast drift as several, each dated
/// between the sample before and the one that found it. A sample whose two monotonic reads lie far apart (the
/// thread was preempted between them) is skipped.</para>
/// </remarks>
internal sealed class ClockWatch
{
    /// <summary>How far the clocks must move apart to count as a step.</summary>
    public static readonly TimeSpan Threshold = TimeSpan.FromMilliseconds(20);

    private static readonly TimeSpan MaxReadSpan = TimeSpan.FromMilliseconds(1);

    private readonly Action<ChaosClockStep> _stepped;
    private readonly Func<long> _monotonic;
    private readonly Func<DateTime> _wall;
    private readonly double _monotonicFrequency;
    private long? _reference;
    private long _lastSample;

    /// <param name="stepped">Told about each step.</param>
    /// <param name="monotonic">The monotonic clock, as <see cref="Stopwatch.GetTimestamp"/> (default).</param>
    /// <param name="wall">The wall clock (default <see cref="DateTime.UtcNow"/>).</param>
    /// <param name="monotonicFrequency">Ticks per second of <paramref name="monotonic"/> (default <see cref="Stopwatch.Frequency"/>).</param>
    public ClockWatch(Action<ChaosClockStep> stepped, Func<long>? monotonic = null, Func<DateTime>? wall = null, long? monotonicFrequency = null)
    {
        _stepped = stepped;
        _monotonic = monotonic ?? Stopwatch.GetTimestamp;
        _wall = wall ?? (static () => DateTime.UtcNow);
        _monotonicFrequency = monotonicFrequency ?? Stopwatch.Frequency;
    }

    /// <summary>Samples the clocks every <paramref name="interval"/> until <paramref name="stop"/>.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Sample();
                await Task.Delay(interval, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    /// <summary>Reads both clocks once; returns the step recorded, if this sample found one.</summary>
    public ChaosClockStep? Sample()
    {
        var before = _monotonic();
        var wall = _wall();
        var after = _monotonic();
        if (TimeSpanTicks(after - before) > MaxReadSpan.Ticks)
        {
            return null;
        }

        var at = before + ((after - before) / 2);
        var from = _lastSample;
        _lastSample = at;
        var offset = wall.Ticks - TimeSpanTicks(at);
        if (_reference is not { } reference)
        {
            _reference = offset;
            return null;
        }

        var moved = offset - reference;
        if (Math.Abs(moved) < Threshold.Ticks)
        {
            return null;
        }

        _reference = offset;
        var step = new ChaosClockStep(from, at, (long)(moved * (_monotonicFrequency / TimeSpan.TicksPerSecond)));
        _stepped(step);
        return step;
    }

    private long TimeSpanTicks(long monotonicTicks) => (long)(monotonicTicks * (TimeSpan.TicksPerSecond / _monotonicFrequency));
}
