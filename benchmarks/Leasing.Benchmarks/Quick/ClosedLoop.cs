using System.Diagnostics;

namespace Leasing.Benchmarks.Quick;

/// <summary>
/// Closed-loop load: N workers each run one operation after another for a fixed time. Every
/// operation that starts also finishes (no lease is abandoned mid-pair), and any error stops the
/// measurement with that error: a failed run never reports a rate.
/// </summary>
internal static class ClosedLoop
{
    /// <summary>Runs <paramref name="operation"/> on <paramref name="workers"/> workers; returns completed operations per second after a warm-up.</summary>
    public static async Task<double> RateAsync(int workers, TimeSpan warmup, TimeSpan duration, Func<int, ValueTask> operation, int minimumOperations = 20) =>
        (await MeasureAsync(workers, warmup, duration, operation, server: null, minimumOperations).ConfigureAwait(false)).PerSecond;

    /// <summary>
    /// As <see cref="RateAsync"/>, and the CPU per completed operation over the measured window: this
    /// process's, and <paramref name="server"/>'s when given and readable.
    /// </summary>
    public static async Task<(double PerSecond, CpuPerPair Cpu)> MeasureAsync(
        int workers, TimeSpan warmup, TimeSpan duration, Func<int, ValueTask> operation, IServerCpu? server, int minimumOperations = 20)
    {
        // Every scenario starts on a collected heap: the garbage a slow baseline left behind is not
        // collected on the next scenario's time.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var counts = new long[workers * 16]; // one slot per worker, 128 bytes apart
        using var stop = new CancellationTokenSource();
        var tasks = new Task[workers];
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            tasks[w] = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await operation(worker).ConfigureAwait(false);
                    Volatile.Write(ref counts[worker * 16], counts[worker * 16] + 1);
                }
            });
        }

        var failed = Task.WhenAny(tasks);
        if (await Task.WhenAny(failed, Task.Delay(warmup)).ConfigureAwait(false) == failed)
        {
            await Stop(stop, tasks).ConfigureAwait(false);
        }

        var serverBefore = server is null ? null : await server.SecondsAsync().ConfigureAwait(false);
        var clientBefore = CpuPerPair.ClientSeconds();
        var before = Sum(counts);
        var clock = Stopwatch.StartNew();
        if (await Task.WhenAny(failed, Task.Delay(duration)).ConfigureAwait(false) == failed)
        {
            await Stop(stop, tasks).ConfigureAwait(false);
        }

        // A slow design (a few pairs per second under load) gets more time, up to 30 s, until it has
        // completed enough pairs for a rate; a warm-up pass asks for none.
        while (Sum(counts) - before < minimumOperations && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (await Task.WhenAny(failed, Task.Delay(50)).ConfigureAwait(false) == failed)
            {
                await Stop(stop, tasks).ConfigureAwait(false);
            }
        }

        var done = Sum(counts) - before;
        var elapsed = clock.Elapsed;
        var clientAfter = CpuPerPair.ClientSeconds();
        var serverAfter = server is null ? null : await server.SecondsAsync().ConfigureAwait(false);
        await Stop(stop, tasks).ConfigureAwait(false);
        if (done == 0 && minimumOperations > 0)
        {
            throw new InvalidOperationException($"No operation completed in {elapsed.TotalSeconds:F1} s with {workers} workers.");
        }

        var perPair = 1e6 / Math.Max(1, done);
        var cpu = new CpuPerPair((clientAfter - clientBefore) * perPair, serverAfter - serverBefore is { } used ? used * perPair : null);
        return (done / elapsed.TotalSeconds, cpu);
    }

    /// <summary>Runs <paramref name="operation"/> on <paramref name="workers"/> workers for <paramref name="duration"/>, counting nothing (warm-up).</summary>
    public static Task WarmAsync(int workers, TimeSpan duration, Func<int, ValueTask> operation) =>
        RateAsync(workers, TimeSpan.Zero, duration, operation, minimumOperations: 0);

    /// <summary>Latencies, in microseconds, of <paramref name="count"/> sequential calls of <paramref name="measured"/>, each followed by <paramref name="after"/> (not timed).</summary>
    public static async Task<double[]> SampleMicrosAsync<T>(int count, Func<ValueTask<T>> measured, Func<T, ValueTask> after)
    {
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var result = await measured().ConfigureAwait(false);
            samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            await after(result).ConfigureAwait(false);
        }

        return samples;
    }

    /// <summary>The median of <paramref name="samples"/>.</summary>
    public static double Median(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static long Sum(long[] counts)
    {
        long sum = 0;
        for (var i = 0; i < counts.Length; i += 16)
        {
            sum += Volatile.Read(ref counts[i]);
        }

        return sum;
    }

    private static async Task Stop(CancellationTokenSource stop, Task[] tasks)
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(tasks).ConfigureAwait(false); // rethrows the first worker error
    }
}
