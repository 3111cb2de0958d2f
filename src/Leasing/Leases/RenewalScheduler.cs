using System.Runtime.CompilerServices;

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
    private LeaseMonitor[] _heap = new LeaseMonitor[16];
    private int _count;
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
                return _count;
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
            var index = monitor.HeapIndex;
            if (index < 0)
            {
                if (_count == _heap.Length)
                {
                    Array.Resize(ref _heap, _count * 2);
                }

                index = _count++;
                _heap[index] = monitor;
                monitor.HeapIndex = index;
                monitor.Due = due;
                SiftUp(index);
            }
            else
            {
                var earlier = due < monitor.Due;
                monitor.Due = due;
                if (earlier)
                {
                    SiftUp(index);
                }
                else
                {
                    SiftDown(index);
                }
            }

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
            var index = monitor.HeapIndex;
            if (index >= 0)
            {
                RemoveAt(index);
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
            while (_count > 0 && _heap[0].Due <= now)
            {
                due ??= new LeaseMonitor[Math.Min(_count, 64)];
                if (dueCount == due.Length)
                {
                    Array.Resize(ref due, dueCount * 2);
                }

                due[dueCount++] = _heap[0];
                RemoveAt(0);
            }

            if (_count > 0)
            {
                Arm(_heap[0].Due);
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

    private void RemoveAt(int index)
    {
        var removed = _heap[index];
        removed.HeapIndex = -1;
        var last = --_count;
        if (index != last)
        {
            var moved = _heap[last];
            _heap[index] = moved;
            moved.HeapIndex = index;
            _heap[last] = null!;
            if (index > 0 && moved.Due < _heap[(index - 1) / 2].Due)
            {
                SiftUp(index);
            }
            else
            {
                SiftDown(index);
            }
        }
        else
        {
            _heap[last] = null!;
        }
    }

    private void SiftUp(int index)
    {
        var item = _heap[index];
        while (index > 0)
        {
            var parent = (index - 1) / 2;
            if (_heap[parent].Due <= item.Due)
            {
                break;
            }

            Place(_heap[parent], index);
            index = parent;
        }

        Place(item, index);
    }

    private void SiftDown(int index)
    {
        var item = _heap[index];
        while (true)
        {
            var child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _heap[child + 1].Due < _heap[child].Due)
            {
                child++;
            }

            if (item.Due <= _heap[child].Due)
            {
                break;
            }

            Place(_heap[child], index);
            index = child;
        }

        Place(item, index);
    }

    private void Place(LeaseMonitor monitor, int index)
    {
        _heap[index] = monitor;
        monitor.HeapIndex = index;
    }
}
