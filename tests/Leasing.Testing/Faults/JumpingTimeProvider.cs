using System.Diagnostics;

namespace Leasing.Testing;

/// <summary>
/// A clock that runs in real time and can jump forward: the app's view of a process paused (GC, VM
/// stall, SIGSTOP) between sending a command and handling its reply. Only the app's clock jumps;
/// the backend's does not, so what the backend granted is still held there.
/// </summary>
public sealed class JumpingTimeProvider : TimeProvider
{
    private long _offsetTicks;

    /// <summary>Moves this clock forward by <paramref name="by"/> at once.</summary>
    /// <param name="by">How far.</param>
    public void Jump(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Volatile.Read(ref _offsetTicks));

    /// <inheritdoc/>
    public override long GetTimestamp() =>
        System.GetTimestamp() + (long)(Volatile.Read(ref _offsetTicks) * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond));
}
