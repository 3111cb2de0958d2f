namespace Leasing.InMemory.Pools;

/// <summary>
/// Announces the end of a cooldown to the pool's subscribers: nothing else happens at that moment
/// in memory (members are reclaimed lazily), so a one-shot timer on the store's clock stands in.
/// Only scheduled while someone subscribes.
/// </summary>
internal sealed class CooldownWake
{
    private readonly PoolState _pool;
    private ITimer? _timer;

    private CooldownWake(PoolState pool) => _pool = pool;

    public static void Schedule(PoolState pool, TimeProvider time, TimeSpan after)
    {
        var wake = new CooldownWake(pool);

        // The provider roots a scheduled timer; the wake disposes it once it has fired.
        var timer = time.CreateTimer(static state => ((CooldownWake)state!).Fire(), wake, after, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref wake._timer, timer, null) is not null)
        {
            timer.Dispose();
        }
    }

    private void Fire()
    {
        // Whichever of Schedule and Fire comes second disposes the timer.
        Interlocked.Exchange(ref _timer, DisposedMarker.Instance)?.Dispose();
        _pool.NotifyReleased();
    }

    private sealed class DisposedMarker : ITimer
    {
        public static readonly DisposedMarker Instance = new();

        public bool Change(TimeSpan dueTime, TimeSpan period) => false;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
