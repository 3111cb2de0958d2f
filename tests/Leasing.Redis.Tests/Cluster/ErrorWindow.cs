using System.Diagnostics;

namespace Leasing.Redis.Tests.Cluster;

/// <summary>
/// Calls a probe over and over (every 20 ms) until stopped and records the longest window in which
/// calls failed: from the start of the first call that threw <see cref="LeaseStoreUnavailableException"/>
/// to the end of the next call that succeeded.
/// </summary>
public sealed class ErrorWindow : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private readonly Func<Task<bool>> probe;
    private TimeSpan longest;
    private int failures;
    private int successes;
    private int refusals;
    private volatile bool open;

    private ErrorWindow(Func<Task<bool>> probe)
    {
        this.probe = probe;
        loop = Task.Run(RunAsync);
    }

    /// <summary>The longest window in which calls failed so far (an open window counts up to now).</summary>
    public TimeSpan Longest => longest;

    /// <summary>Calls that threw.</summary>
    public int Failures => Volatile.Read(ref failures);

    /// <summary>Calls that succeeded.</summary>
    public int Successes => Volatile.Read(ref successes);

    /// <summary>Calls whose probe answered false (for a renew: the lease was lost).</summary>
    public int Refusals => Volatile.Read(ref refusals);

    /// <summary>True while the last call failed.</summary>
    public bool IsOpen => open;

    /// <summary>Starts probing. <paramref name="probe"/> returns false when the backend answered but refused (a lost lease).</summary>
    public static ErrorWindow Start(Func<Task<bool>> probe) => new(probe);

    /// <summary>Waits until at least one call failed and a later one succeeded, or <paramref name="limit"/> passes.</summary>
    public Task ClosedAfterFailureAsync(TimeSpan limit) =>
        ClusterNodes.UntilAsync(() => Task.FromResult(Failures > 0 && !IsOpen), "calls failed during the failover, then succeeded again", limit);

    /// <summary>Stops probing.</summary>
    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }

    private async Task RunAsync()
    {
        long failingSince = 0;
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var answered = await probe();
                Interlocked.Increment(ref successes);
                if (!answered)
                {
                    Interlocked.Increment(ref refusals);
                }

                if (failingSince != 0)
                {
                    var window = Stopwatch.GetElapsedTime(failingSince);
                    longest = window > longest ? window : longest;
                    failingSince = 0;
                    open = false;
                }
            }
            catch (LeaseStoreUnavailableException)
            {
                Interlocked.Increment(ref failures);
                failingSince = failingSince == 0 ? started : failingSince;
                open = true;
            }

            try
            {
                // Pacing of the probe, not synchronisation: one call every 20 ms.
                await Task.Delay(20, stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
