using System.Runtime.CompilerServices;
using Leasing.Internal;

namespace Leasing;

/// <summary>
/// One timer per clock for every <see cref="LeaseMonitor"/> on it: a min-heap of monitors by the
/// moment each needs attention (its next renewal or its local deadline). Scheduling, moving and
/// removing a monitor cost O(log n) and allocate nothing, so a lease that is taken and released at
/// once costs no timer of its own.
/// </summary>
internal sealed class RenewalScheduler
{
    private static readonly ConditionalWeakTable<TimeProvider, RenewalScheduler> Schedulers = new();

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private readonly IndexedMinHeap<LeaseMonitor, MonitorSlot> _heap = new();
    private long _armedFor = long.MaxValue;

    private RenewalScheduler(TimeProvider time)
    {
        _time = time;

        // The timer must not capture the first caller's ExecutionContext (its activity, its scopes).
        using (ExecutionContext.IsFlowSuppressed() ? default(AsyncFlowControl?) : ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static state => ((RenewalScheduler)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The scheduler of a clock (one per <see cref="TimeProvider"/> instance).</summary>
    /// <param name="time">The clock.</param>
    /// <returns>The scheduler.</returns>
    public static RenewalScheduler For(TimeProvider time) => Schedulers.GetValue(time, static t => new RenewalScheduler(t));

    /// <summary>The number of monitors waiting (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _heap.Count;
            }
        }
    }

    /// <summary>Schedules a monitor at <paramref name="due"/>, or moves it there if it is scheduled already.</summary>
    /// <param name="monitor">The monitor.</param>
    /// <param name="due">A <see cref="TimeProvider.GetTimestamp"/> value.</param>
    public void Schedule(LeaseMonitor monitor, long due)
    {
        lock (_gate)
        {
            _heap.PushOrChangeKey(monitor, due);
            if (due < _armedFor)
            {
                Arm(due);
            }
        }
    }

    /// <summary>Takes a monitor off the schedule; nothing happens if it is not on it.</summary>
    /// <param name="monitor">The monitor.</param>
    public void Remove(LeaseMonitor monitor)
    {
        lock (_gate)
        {
            if (IndexedMinHeap<LeaseMonitor, MonitorSlot>.Contains(monitor))
            {
                _heap.Remove(monitor);
            }
        }
    }

    private void OnTimer()
    {
        LeaseMonitor[]? due = null;
        var dueCount = 0;
        long now;
        lock (_gate)
        {
            now = _time.GetTimestamp();
            _armedFor = long.MaxValue;
            while (_heap.Count > 0 && _heap.MinKey <= now)
            {
                due ??= new LeaseMonitor[Math.Min(_heap.Count, 64)];
                if (dueCount == due.Length)
                {
                    Array.Resize(ref due, dueCount * 2);
                }

                due[dueCount++] = _heap.Pop();
            }

            if (_heap.Count > 0)
            {
                Arm(_heap.MinKey);
            }
        }

        for (var i = 0; i < dueCount; i++)
        {
            due![i].OnDue(now);
        }
    }

    private void Arm(long due)
    {
        _armedFor = due;
        var now = _time.GetTimestamp();
        var delay = due > now ? _time.GetElapsedTime(now, due) : TimeSpan.Zero;
        _timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A monitor's position in the heap.</summary>
    private readonly struct MonitorSlot : IHeapSlot<LeaseMonitor>
    {
        public static ref int Of(LeaseMonitor monitor) => ref monitor.HeapIndex;
    }
}
