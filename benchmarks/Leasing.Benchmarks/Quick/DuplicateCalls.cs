using System.Diagnostics;
using Leasing.Redis;
using StackExchange.Redis;

namespace Leasing.Benchmarks.Quick;

/// <summary>
/// The idempotency target of docs/architecture.md#performance-targets. In one process: 50 parallel duplicates of one call through one
/// <see cref="IdempotentExecutor"/> must run the action once and claim once (counted over several
/// keys; the worst key is reported). Across processes: 8 copies of this program, released together
/// once all are connected, run the same call on Redis; the action counts itself in Redis, so the count must be 1.
/// </summary>
internal static class DuplicateCalls
{
    /// <summary>The argument that turns this program into one of the duplicate processes.</summary>
    public const string WorkerSwitch = "--duplicate-worker";

    public static async Task<(int MaxExecutions, int MaxClaims, int Keys)> InProcessAsync(IIdempotencyStore inner, string runId, int duplicates = 50, int keys = 20)
    {
        var store = new ClaimCountingStore(inner);
        await using var executor = new IdempotentExecutor(store);
        int maxExecutions = 0, maxClaims = 0;
        for (var k = 0; k < keys; k++)
        {
            var key = $"bench-{runId}-duplicates-{k}";
            var executions = 0;
            var claimsBefore = store.Claims;
            using var start = new ManualResetEventSlim();
            var calls = Enumerable.Range(0, duplicates).Select(_ => Task.Run(async () =>
            {
                start.Wait();
                return await executor.ExecuteAsync(key, async ct =>
                {
                    Interlocked.Increment(ref executions);
                    await Task.Delay(20, ct).ConfigureAwait(false);
                    return 42;
                }, "fingerprint").ConfigureAwait(false);
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(calls).ConfigureAwait(false);
            if (results.Any(r => r.Value != 42))
            {
                throw new InvalidOperationException("A duplicate got another result.");
            }

            maxExecutions = Math.Max(maxExecutions, executions);
            maxClaims = Math.Max(maxClaims, store.Claims - claimsBefore);
        }

        return (maxExecutions, maxClaims, keys);
    }

    /// <summary>Starts <paramref name="processes"/> copies of this program that run one call on Redis at the same moment; returns how often the action ran.</summary>
    public static async Task<long> AcrossProcessesAsync(IConnectionMultiplexer redis, string configuration, string runId, int processes = 8)
    {
        var key = $"bench-{runId}-processes";
        var counter = $"bench:{runId}:executions";
        var ready = $"bench:{runId}:ready";
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path to start the duplicate processes from.");
        var arguments = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            arguments.Add(typeof(DuplicateCalls).Assembly.Location);
        }

        arguments.AddRange([WorkerSwitch, configuration, key, counter, ready, processes.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var started = Enumerable.Range(0, processes).Select(_ => Process.Start(new ProcessStartInfo(self, arguments) { RedirectStandardError = true })
            ?? throw new InvalidOperationException("A duplicate process did not start.")).ToArray();
        foreach (var process in started)
        {
            var errors = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"A duplicate process failed (exit code {process.ExitCode}): {errors}");
            }

            process.Dispose();
        }

        return (long)await redis.GetDatabase().StringGetAsync(counter).ConfigureAwait(false);
    }

    /// <summary>One duplicate process: connects, waits until every copy is ready (a counter in Redis), runs the call, counts the action in Redis.</summary>
    public static async Task<int> WorkerAsync(string[] args)
    {
        var (configuration, key, counter, ready) = (args[1], args[2], args[3], args[4]);
        var processes = int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture);
        using var redis = await Servers.ConnectRedisAsync(configuration, "leasing-bench-duplicate").ConfigureAwait(false);
        var db = redis.GetDatabase();
        await using var executor = new IdempotentExecutor(new RedisIdempotencyStore(redis));
        await db.StringIncrementAsync(ready).ConfigureAwait(false);
        var deadline = Stopwatch.StartNew();
        while ((long)await db.StringGetAsync(ready).ConfigureAwait(false) < processes)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                await Console.Error.WriteLineAsync("the other duplicate processes did not get ready within 60 s").ConfigureAwait(false);
                return 2;
            }

            await Task.Delay(2).ConfigureAwait(false);
        }

        var result = await executor.ExecuteAsync(key, async ct =>
        {
            await db.StringIncrementAsync(counter).ConfigureAwait(false);
            await Task.Delay(200, ct).ConfigureAwait(false);
            return 42;
        }, "fingerprint").ConfigureAwait(false);
        return result.Value == 42 ? 0 : 1;
    }

    /// <summary>Counts claim round trips; forwards everything (completion signals included) to the real store.</summary>
    private sealed class ClaimCountingStore(IIdempotencyStore inner) : IIdempotencyStore, IIdempotencyCompletionSource
    {
        private int _claims;

        public int Claims => Volatile.Read(ref _claims);

        public ValueTask<IdempotencyClaim> TryClaimAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _claims);
            return inner.TryClaimAsync(key, fingerprint, lease, cancellationToken);
        }

        public ValueTask<bool> HeartbeatAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken = default) =>
            inner.HeartbeatAsync(key, ownerToken, lease, cancellationToken);

        public ValueTask<bool> CompleteAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken = default) =>
            inner.CompleteAsync(key, ownerToken, outcome, payload, retention, cancellationToken);

        public ValueTask<bool> ReleaseAsync(string key, string ownerToken, CancellationToken cancellationToken = default) =>
            inner.ReleaseAsync(key, ownerToken, cancellationToken);

        public ValueTask<IdempotencyRecord?> GetAsync(string key, CancellationToken cancellationToken = default) =>
            inner.GetAsync(key, cancellationToken);

        public ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default) =>
            inner.EvictAsync(key, cancellationToken);

        public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default) =>
            inner is IIdempotencyCompletionSource source
                ? source.SubscribeToCompletionAsync(key, onCompleted, cancellationToken)
                : throw new NotSupportedException("The store sends no completion signals.");
    }
}
